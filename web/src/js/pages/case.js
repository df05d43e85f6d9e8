import { api } from '../api.js';
import { clear, el, facts, field, table, timeEl, fmtNumber } from '../dom.js';
import { engineView } from './engine.js';

const actions = [
  { action: 'note', label: 'Add note', needsText: true },
  { action: 'assign', label: 'Assign' },
  { action: 'release', label: 'Release held mail' },
  { action: 'rehold', label: 'Re-hold' },
  { action: 'escalate', label: 'Escalate' },
  { action: 'close', label: 'Close case' },
];

const doneWords = {
  note: 'Note added.',
  assign: 'Case assigned.',
  release: 'Held mail released.',
  rehold: 'Subscriber held again.',
  escalate: 'Case escalated.',
  close: 'Case closed.',
};

export async function render(ctx) {
  const id = ctx.arg;
  const data = await api.caseDetail(id);
  if (!ctx.current()) return;
  draw(ctx, id, data, '');
}

function draw(ctx, id, data, flash) {
  clear(ctx.main);
  const c = data.case;
  const held = data.held || [];
  const notices = data.notices || [];
  const events = data.events || [];
  const flashEl = el('p', { id: 'action-result', class: 'flash', role: 'status', tabindex: '-1' }, flash);
  ctx.main.append(
    el('p', { class: 'crumbs' }, el('a', { href: '#/cases?unresolved=1' }, 'Cases'), ' › ', `#${c.id}`),
    el('h1', {}, `Case #${c.id}: `, c.subscriber),
    flashEl,
    el('section', { id: 'case-detail', 'aria-labelledby': 'case-facts-heading', dataset: { caseId: c.id } },
      el('h2', { id: 'case-facts-heading', class: 'visually-hidden' }, 'Case facts'),
      facts([
        ['Status', el('span', { class: `badge status-${c.status}` }, c.status), 'case-status'],
        ['Subscriber', el('a', { href: ctx.href(`subscribers/${encodeURIComponent(c.subscriber)}`) }, c.subscriber),
          'case-subscriber'],
        ['Level', c.level || '—', 'case-level'],
        ['Summary', c.summary || '—', 'case-summary'],
        ['Assignee', c.assignee || 'unassigned', 'case-assignee'],
        ['Opened', timeEl(c.opened_ms)],
        ['Updated', timeEl(c.updated_ms)],
        ['Resolved', timeEl(c.resolved_ms)],
        ['Monitoring until', timeEl(c.monitoring_until_ms)],
        ['Notices sent', fmtNumber(c.notices_sent), 'case-notices-sent'],
      ])),
    ctx.canAct ? actionForm(ctx, id, data) : el('p', { id: 'case-readonly', class: 'note' },
      `Your role (${ctx.role}) can read cases but not act on them.`),
    el('section', { 'aria-labelledby': 'timeline-heading' },
      el('h2', { id: 'timeline-heading' }, 'Evidence timeline'),
      table({
        id: 'case-events',
        caption: 'Events, oldest first',
        columns: ['Time', 'Event', 'By', 'Detail'],
        rows: events.map((e) => [timeEl(e.at_ms), e.kind, e.actor, e.detail || '']),
        rowAttrs: (i) => ({ dataset: { kind: events[i].kind } }),
        empty: 'No events yet.',
      })),
    el('section', { 'aria-labelledby': 'held-heading' },
      el('h2', { id: 'held-heading' }, 'Held messages'),
      held.length === 0 ? el('p', { id: 'case-held-empty' }, 'No held messages recorded for this case.')
        : el('ul', { id: 'case-held', class: 'queue-ids' },
          held.map((h) => el('li', { dataset: { queueId: h.queue_id } }, el('code', {}, h.queue_id))))),
    el('section', { 'aria-labelledby': 'notices-heading' },
      el('h2', { id: 'notices-heading' }, 'Notices sent to the customer'),
      table({
        id: 'case-notices',
        caption: 'Notices',
        columns: ['Time', 'Kind', 'Delivered', 'Error'],
        rows: notices.map((n) => [timeEl(n.at_ms), n.kind, n.delivered ? 'yes' : 'no', n.error || '']),
        empty: 'No notices sent yet.',
      })),
    engineView(data.subscriber));
  if (flash) flashEl.focus();
}

function actionForm(ctx, id, data) {
  const c = data.case;
  const text = el('textarea', { id: 'action-text', name: 'text', rows: 3, maxlength: 2000 });
  const assignee = el('input', { id: 'action-assignee', name: 'assignee', type: 'text', value: c.assignee || ctx.user,
    autocomplete: 'off' });
  const buttons = actions.map((a) => el('button', {
    type: 'button',
    id: `action-${a.action}`,
    dataset: { action: a.action },
    disabled: c.status === 'resolved' && a.action !== 'note',
  }, a.label));
  const form = el('form', { id: 'case-actions', class: 'card', 'aria-labelledby': 'actions-heading' },
    el('h2', { id: 'actions-heading' }, 'Act on this case'),
    field('Note or reason (recorded in the audit log)', text, 'Required for a note; optional otherwise.'),
    field('Assign to (user name)', assignee),
    el('div', { class: 'buttons' }, buttons));
  form.addEventListener('submit', (event) => event.preventDefault());
  for (const button of buttons) {
    button.addEventListener('click', async () => {
      const action = button.dataset.action;
      const spec = actions.find((a) => a.action === action);
      ctx.showError('');
      if (spec.needsText && !text.value.trim()) {
        ctx.showError('Write the note first.');
        text.focus();
        return;
      }
      if (action === 'assign' && !assignee.value.trim()) {
        ctx.showError('Enter the user name to assign the case to.');
        assignee.focus();
        return;
      }
      const body = { action, text: text.value.trim() };
      if (action === 'assign') body.assignee = assignee.value.trim();
      for (const b of buttons) b.disabled = true;
      ctx.setStatus('Working…');
      try {
        await api.caseAction(id, body);
        const fresh = await api.caseDetail(id);
        if (!ctx.current()) return;
        draw(ctx, id, fresh, doneWords[action]);
      } catch (e) {
        if (!ctx.current()) return;
        ctx.showError(e.message);
        for (const b of buttons) b.disabled = c.status === 'resolved' && b.dataset.action !== 'note';
        button.focus();
      } finally {
        ctx.setStatus('');
      }
    });
  }
  return form;
}
