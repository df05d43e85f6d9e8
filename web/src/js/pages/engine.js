// The engine's view of one subscriber (GET /api/v1/subscribers/{id}), shared by the case and
// subscriber pages: numbers and queue ids only, never message content.
import { el, facts, table, timeEl, fmtNumber } from '../dom.js';

const windowOrder = ['1m', '10m', '1h', '24h'];

function probability(p) {
  return p === null || p === undefined ? '—' : p.toFixed(3);
}

export function engineView(sub, headingLevel = 'h2') {
  const sub3 = headingLevel === 'h2' ? 'h3' : 'h4';
  const section = el('section', { id: 'engine-view', class: 'engine', 'aria-labelledby': 'engine-heading' },
    el(headingLevel, { id: 'engine-heading' }, 'What the engine sees'));
  if (!sub) {
    section.append(el('p', {}, 'The engine has no view of this subscriber.'));
    return section;
  }
  section.append(facts([
    ['Subscriber', sub.subscriber, 'engine-subscriber'],
    ['Level', sub.level || 'no current state (known from the decision log only)', 'engine-level'],
    ['Suspicion', sub.suspicion === undefined ? '—' : String(sub.suspicion), 'engine-suspicion'],
    ['Last seen', timeEl(sub.last_seen_ms)],
    ['Held since', timeEl(sub.held_since_ms)],
    ['Grace until', timeEl(sub.grace_until_ms)],
    ['Why', sub.reasons || '—', 'engine-reasons'],
  ]));
  if (sub.windows) {
    const names = windowOrder.filter((w) => sub.windows[w]).concat(
      Object.keys(sub.windows).filter((w) => !windowOrder.includes(w)));
    section.append(table({
      id: 'engine-windows',
      caption: 'Sending in each window',
      columns: ['Window', 'Messages', 'Recipients', 'New recipients', 'New domains', 'Sender changes',
        'HELO changes', 'Hard bounces', 'Mean spam probability'],
      rowHeader: true,
      rows: names.map((w) => {
        const c = sub.windows[w];
        return [w, fmtNumber(c.messages), fmtNumber(c.recipients), fmtNumber(c.new_recipients),
          fmtNumber(c.new_domains), fmtNumber(c.sender_changes), fmtNumber(c.helo_changes),
          fmtNumber(c.hard_bounces), probability(c.mean_spam_probability)];
      }),
    }));
  }
  if (sub.baseline) {
    section.append(el(sub3, {}, 'Baseline'), facts([
      ['Messages per day', fmtNumber(sub.baseline.messages_per_day)],
      ['Recipients per day', fmtNumber(sub.baseline.recipients_per_day)],
      ['Learnt', sub.baseline.learnt ? 'yes' : 'not yet'],
    ]));
  }
  const decisions = sub.decisions || [];
  section.append(table({
    id: 'engine-decisions',
    caption: 'Latest decisions',
    columns: ['Time', 'Queue id', 'Action', 'Level', 'Suspicion', 'Reasons', 'Observe only'],
    rows: decisions.map((d) => [timeEl(d.at_ms), d.queue_id || '—', d.action, d.level, String(d.suspicion ?? '—'),
      d.reasons || '', d.observe_only ? 'yes' : 'no']),
    empty: sub.decisions_error ? `Decisions unavailable: ${sub.decisions_error}` : 'No decisions recorded.',
  }));
  const held = sub.held || [];
  section.append(table({
    id: 'engine-held',
    caption: 'Held messages (Postfix queue ids)',
    columns: ['Queue id', 'Held at'],
    rowHeader: true,
    rows: held.map((h) => [h.queue_id, timeEl(h.held_ms)]),
    rowAttrs: (i) => ({ dataset: { queueId: held[i].queue_id } }),
    empty: sub.held_error ? `Held list unavailable: ${sub.held_error}` : 'Nothing held.',
  }));
  return section;
}
