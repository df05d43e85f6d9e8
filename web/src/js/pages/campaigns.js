import { api } from '../api.js';
import { el, table, timeEl, fmtNumber } from '../dom.js';

export async function render(ctx) {
  const data = await api.campaigns();
  if (!ctx.current()) return;
  const list = data.campaigns || [];
  ctx.main.append(
    el('h1', {}, 'Campaigns'),
    el('p', { class: 'note' },
      `Evidence derived from content (first seen, link domains, subject shape) is shown only once at least ${data.k} `
      + 'distinct subscribers sent the campaign; subjects themselves are never stored.'),
    table({
      id: 'campaign-list',
      caption: data.active_only === false ? 'All tracked campaigns' : 'Active campaigns, most subscribers first',
      columns: ['Campaign', 'Active', 'Messages', 'Subscribers', 'First seen', 'Last seen', 'Link domains',
        'Subject shape'],
      rowHeader: true,
      rows: list.map((c) => [
        el('code', {}, c.id),
        c.active ? 'yes' : 'no',
        fmtNumber(c.messages),
        fmtNumber(c.distinct_subscribers),
        timeEl(c.first_seen_ms),
        timeEl(c.last_seen_ms),
        Array.isArray(c.url_domains) ? c.url_domains.join(', ') || '—' : (c.evidence || '—'),
        c.subject_shape || '—',
      ]),
      rowAttrs: (i) => ({ dataset: { campaignId: list[i].id } }),
      empty: 'No active campaigns.',
    }));
}
