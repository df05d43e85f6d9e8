import { api } from '../api.js';
import { el, field, table, timeEl } from '../dom.js';
import { pager } from '../pager.js';

const pageSize = 50;

export function render(ctx) {
  const prefix = ctx.params.get('prefix') || '';
  const after = ctx.params.get('after') || '';
  const input = el('input', { id: 'subscriber-prefix', type: 'search', value: prefix, autocomplete: 'off' });
  const form = el('form', { id: 'subscriber-search', class: 'filters', role: 'search', 'aria-label': 'Find subscribers' },
    field('Subscriber id starts with', input, 'The SASL login or address id; leave empty to list all.'),
    el('div', { class: 'field' }, el('button', { id: 'subscriber-search-submit', type: 'submit' }, 'Search')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    ctx.navigate(ctx.href('subscribers', { prefix: input.value.trim() }));
  });
  const results = el('section', { id: 'subscriber-results', 'aria-label': 'Subscribers found' });
  ctx.main.append(el('h1', {}, 'Subscribers'), form, results);
  return load(ctx, prefix, after, results);
}

async function load(ctx, prefix, after, results) {
  const data = await api.subscribers({ prefix, after, limit: pageSize });
  if (!ctx.current()) return;
  const subs = data.subscribers || [];
  results.append(
    table({
      id: 'subscriber-list',
      caption: prefix ? 'Subscribers whose id starts with the search text' : 'Subscribers',
      columns: ['Subscriber', 'Plan', 'Since'],
      rowHeader: true,
      rows: subs.map((s) => [
        el('a', { href: ctx.href(`subscribers/${encodeURIComponent(s.id)}`), class: 'subscriber-link' }, s.id),
        s.plan || '—',
        timeEl(s.created_ms),
      ]),
      rowAttrs: (i) => ({ dataset: { subscriberId: subs[i].id } }),
      empty: 'No subscriber matches.',
    }),
    pager({
      name: 'subscribers',
      filterKey: prefix,
      cursorParam: 'after',
      current: after,
      next: data.next_after,
      label: 'Subscriber pages',
      go: (cursor) => ctx.navigate(ctx.href('subscribers', { prefix, after: cursor })),
    }));
}
