import { api } from '../api.js';
import { el, field, select, table, timeEl, fmtNumber } from '../dom.js';
import { pager } from '../pager.js';

export const caseStatuses = ['open', 'notified', 'monitoring', 'escalated', 'resolved'];
const pageSize = 50;

export function render(ctx) {
  const p = ctx.params;
  const filters = {
    status: p.get('status') || '',
    subscriber: p.get('subscriber') || '',
    assignee: p.get('assignee') || '',
    unresolved: p.get('unresolved') === '1' ? 1 : '',
  };
  const before = p.get('before') || '';

  const status = select('filter-status', [['', 'Any status'], ...caseStatuses.map((s) => [s, s])], filters.status);
  const subscriber = el('input', { id: 'filter-subscriber', type: 'search', value: filters.subscriber, autocomplete: 'off' });
  const assignee = el('input', { id: 'filter-assignee', type: 'search', value: filters.assignee, autocomplete: 'off' });
  const unresolved = el('input', { id: 'filter-unresolved', type: 'checkbox', checked: Boolean(filters.unresolved) });
  const form = el('form', { id: 'case-filters', class: 'filters', role: 'search', 'aria-label': 'Filter cases' },
    field('Status', status),
    field('Subscriber starts with', subscriber),
    field('Assigned to', assignee, 'A desk user name'),
    el('div', { class: 'field check' }, unresolved, el('label', { for: 'filter-unresolved' }, 'Unresolved only')),
    el('div', { class: 'field' }, el('button', { id: 'filter-apply', type: 'submit' }, 'Apply filters')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.navigate(ctx.href('cases', {
      status: status.value,
      subscriber: subscriber.value.trim(),
      assignee: assignee.value.trim(),
      unresolved: unresolved.checked ? 1 : '',
    }));
  });
  const results = el('section', { id: 'case-results', 'aria-labelledby': 'case-results-heading' });
  ctx.main.append(el('h1', {}, 'Cases'), form, results);
  return load(ctx, filters, before, results);
}

async function load(ctx, filters, before, results) {
  const data = await api.cases({ ...filters, before, limit: pageSize });
  if (!ctx.current()) return;
  const cases = data.cases || [];
  const rows = cases.map((c) => [
    el('a', { href: ctx.href(`cases/${encodeURIComponent(c.id)}`), class: 'case-link' }, `#${c.id}`),
    c.subscriber,
    el('span', { class: `badge status-${c.status}` }, c.status),
    c.level || '—',
    c.summary || '',
    c.assignee || 'unassigned',
    timeEl(c.opened_ms),
    timeEl(c.updated_ms),
    fmtNumber(c.notices_sent),
  ]);
  results.append(
    el('h2', { id: 'case-results-heading' }, 'Results'),
    el('p', { id: 'case-total' }, `${fmtNumber(data.total)} matching case${data.total === 1 ? '' : 's'}`,
      before ? ' (a later page)' : ''),
    table({
      id: 'case-list',
      caption: 'Cases, newest first',
      columns: ['Case', 'Subscriber', 'Status', 'Level', 'Summary', 'Assignee', 'Opened', 'Updated', 'Notices'],
      rows,
      rowHeader: true,
      rowAttrs: (i) => ({ dataset: { caseId: cases[i].id, status: cases[i].status } }),
      empty: 'No case matches these filters.',
    }),
    pager({
      name: 'cases',
      filterKey: JSON.stringify(filters),
      cursorParam: 'before',
      current: before,
      next: data.next_before,
      label: 'Case pages',
      go: (cursor) => ctx.navigate(ctx.href('cases', { ...filters, before: cursor })),
    }));
}
