import { api } from '../api.js';
import { el, field, select, table, timeEl } from '../dom.js';
import { pager } from '../pager.js';

export const exemptionStatuses = ['pending', 'active', 'suspended', 'refused', 'revoked'];
const pageSize = 50;

// What a person may do from each status (the server checks again and answers 409 otherwise).
const actionsFor = {
  pending: ['grant', 'refuse'],
  active: ['suspend', 'revoke'],
  suspended: ['restore', 'revoke'],
  refused: [],
  revoked: [],
};
const allActions = ['grant', 'refuse', 'revoke', 'suspend', 'restore'];

function actionCell(ctx, ex) {
  const available = actionsFor[ex.status] || allActions;
  if (available.length === 0) return '—';
  const text = el('input', { id: `exemption-${ex.id}-text`, type: 'text', autocomplete: 'off', maxlength: 500 });
  const buttons = available.map((a) => el('button', {
    type: 'button',
    id: `exemption-${ex.id}-${a}`,
    dataset: { action: a },
    'aria-describedby': `exemption-${ex.id}-who`,
  }, a));
  const form = el('form', { class: 'row-actions', dataset: { exemptionId: ex.id } },
    field(['Reason', el('span', { class: 'visually-hidden' }, ` for exemption ${ex.id}`)], text), el('div', { class: 'buttons' }, buttons));
  form.addEventListener('submit', (event) => event.preventDefault());
  for (const b of buttons) {
    b.addEventListener('click', async () => {
      ctx.showError('');
      for (const x of buttons) x.disabled = true;
      ctx.setStatus('Working…');
      try {
        await api.exemptionAction(ex.id, { action: b.dataset.action, text: text.value.trim() });
        await ctx.rerender();
        ctx.setStatus(`Exemption ${ex.id}: ${b.dataset.action} done.`);
        const h1 = ctx.main.querySelector('h1');
        if (h1) h1.focus();
      } catch (e) {
        ctx.setStatus('');
        ctx.showError(e.message);
        for (const x of buttons) x.disabled = false;
        b.focus();
      }
    });
  }
  return form;
}

// The exemptions table, also used on the subscriber page (read-only there: `withActions` false).
export function exemptionTable(ctx, list, id, withActions) {
  const columns = ['Exemption', 'Subscriber', 'Status', 'Reason given', 'Decided by', 'Decision', 'Requested',
    'Updated', 'Expires'];
  if (withActions) columns.push('Actions');
  return table({
    id,
    caption: 'Port-25 exemptions',
    columns,
    rowHeader: true,
    rows: list.map((x) => {
      const cells = [
        String(x.id),
        el('span', { id: `exemption-${x.id}-who` },
          el('a', { href: ctx.href(`subscribers/${encodeURIComponent(x.subscriber)}`) }, x.subscriber)),
        el('span', { class: `badge status-${x.status}` }, x.status),
        x.reason || '',
        x.decided_by || '—',
        x.decision || '',
        timeEl(x.requested_ms),
        timeEl(x.updated_ms),
        timeEl(x.expires_ms),
      ];
      if (withActions) cells.push(actionCell(ctx, x));
      return cells;
    }),
    rowAttrs: (i) => ({ dataset: { exemptionId: list[i].id, status: list[i].status } }),
    empty: 'No exemptions.',
  });
}

export function render(ctx) {
  const status = ctx.params.get('status') || '';
  const before = ctx.params.get('before') || '';
  const statusSelect = select('exemption-filter-status',
    [['', 'Any status'], ...exemptionStatuses.map((s) => [s, s])], status);
  const form = el('form', { id: 'exemption-filters', class: 'filters', role: 'search', 'aria-label': 'Filter exemptions' },
    field('Status', statusSelect),
    el('div', { class: 'field' }, el('button', { id: 'exemption-filter-apply', type: 'submit' }, 'Show')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.navigate(ctx.href('exemptions', { status: statusSelect.value }));
  });
  const results = el('section', { id: 'exemption-results', 'aria-label': 'Exemptions' });
  ctx.main.append(el('h1', {}, 'Port-25 exemptions'), form, results);
  return load(ctx, status, before, results);
}

async function load(ctx, status, before, results) {
  const data = await api.exemptions({ status, before, limit: pageSize });
  if (!ctx.current()) return;
  if (!ctx.canAct) {
    results.append(el('p', { class: 'note' }, `Your role (${ctx.role}) can read exemptions but not decide them.`));
  }
  results.append(
    exemptionTable(ctx, data.exemptions || [], 'exemption-list', ctx.canAct),
    pager({
      name: 'exemptions',
      filterKey: status,
      cursorParam: 'before',
      current: before,
      next: data.next_before,
      label: 'Exemption pages',
      go: (cursor) => ctx.navigate(ctx.href('exemptions', { status, before: cursor })),
    }));
}
