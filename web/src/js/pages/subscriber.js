import { api } from '../api.js';
import { el, table, timeEl } from '../dom.js';
import { engineView } from './engine.js';
import { exemptionTable } from './exemptions.js';

export async function render(ctx) {
  const id = ctx.arg;
  const data = await api.subscriber(id);
  if (!ctx.current()) return;
  const cases = data.cases || [];
  ctx.main.append(
    el('p', { class: 'crumbs' }, el('a', { href: '#/subscribers' }, 'Subscribers'), ' › ', id),
    el('h1', { id: 'subscriber-detail', dataset: { subscriberId: id } }, 'Subscriber ', id),
    engineView(data),
    el('section', { 'aria-labelledby': 'subscriber-cases-heading' },
      el('h2', { id: 'subscriber-cases-heading' }, 'Cases'),
      table({
        id: 'subscriber-cases',
        caption: 'Cases of this subscriber',
        columns: ['Case', 'Status', 'Level', 'Summary', 'Opened', 'Resolved'],
        rowHeader: true,
        rows: cases.map((c) => [
          el('a', { href: ctx.href(`cases/${encodeURIComponent(c.id)}`), class: 'case-link' }, `#${c.id}`),
          el('span', { class: `badge status-${c.status}` }, c.status),
          c.level || '—', c.summary || '', timeEl(c.opened_ms), timeEl(c.resolved_ms)]),
        rowAttrs: (i) => ({ dataset: { caseId: cases[i].id } }),
        empty: 'No cases.',
      })),
    el('section', { 'aria-labelledby': 'subscriber-exemptions-heading' },
      el('h2', { id: 'subscriber-exemptions-heading' }, 'Port-25 exemptions'),
      exemptionTable(ctx, data.exemptions || [], 'subscriber-exemptions', false)));
}
