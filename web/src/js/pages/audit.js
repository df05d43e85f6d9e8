import { api } from '../api.js';
import { el, field, table, timeEl } from '../dom.js';
import { pager } from '../pager.js';

const pageSize = 100;

export function render(ctx) {
  const actor = ctx.params.get('actor') || '';
  const before = ctx.params.get('before') || '';
  const input = el('input', { id: 'audit-actor', type: 'search', value: actor, autocomplete: 'off' });
  const form = el('form', { id: 'audit-filters', class: 'filters', role: 'search', 'aria-label': 'Filter the audit log' },
    field('Actor', input, 'A desk user name, "customer", "system" or "anonymous"'),
    el('div', { class: 'field' }, el('button', { id: 'audit-filter-apply', type: 'submit' }, 'Show')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.navigate(ctx.href('audit', { actor: input.value.trim() }));
  });
  const results = el('section', { id: 'audit-results', 'aria-label': 'Audit entries' });
  ctx.main.append(el('h1', {}, 'Audit log'), form, results);
  return load(ctx, actor, before, results);
}

async function load(ctx, actor, before, results) {
  const data = await api.audit({ actor, before, limit: pageSize });
  if (!ctx.current()) return;
  const rows = data.audit || [];
  results.append(
    table({
      id: 'audit-list',
      caption: 'Who did what, newest first',
      columns: ['Time', 'Actor', 'Action', 'Target', 'Allowed', 'Detail'],
      rows: rows.map((a) => [timeEl(a.at_ms), a.actor, a.action, a.target,
        el('span', { class: a.allowed ? 'allowed' : 'refused' }, a.allowed ? 'allowed' : 'refused'), a.detail || '']),
      rowAttrs: (i) => ({ dataset: { auditId: rows[i].id, allowed: rows[i].allowed ? '1' : '0' } }),
      empty: 'No audit entries.',
    }),
    pager({
      name: 'audit',
      filterKey: actor,
      cursorParam: 'before',
      current: before,
      next: data.next_before,
      label: 'Audit pages',
      go: (cursor) => ctx.navigate(ctx.href('audit', { actor, before: cursor })),
    }));
}
