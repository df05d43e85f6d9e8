// Keyset paging: the API returns a cursor for the next (older) page; Previous walks back through the
// cursors this tab has seen for the same filter, kept in sessionStorage so a reload keeps them.
import { el } from './dom.js';

function stackKey(name, filterKey) {
  return `pw-pages:${name}:${filterKey}`;
}

function loadStack(name, filterKey) {
  try {
    return JSON.parse(sessionStorage.getItem(stackKey(name, filterKey)) || '[]');
  } catch (e) {
    return [];
  }
}

function saveStack(name, filterKey, stack) {
  sessionStorage.setItem(stackKey(name, filterKey), JSON.stringify(stack.slice(-200)));
}

// opts: {name, filterKey, cursorParam ('before'|'after'), current (cursor now, '' for the first page),
//        next (cursor from the API or null), go(cursor)}
export function pager({ name, filterKey, cursorParam, current, next, go, label }) {
  let stack = loadStack(name, filterKey);
  if (!current) stack = [];
  // Trim the stack to the page we are on (the user may have come back by the browser's history).
  const at = stack.indexOf(current);
  if (current && at >= 0) stack = stack.slice(0, at);
  saveStack(name, filterKey, stack);
  const prev = el('button', { type: 'button', id: 'page-prev', disabled: !current }, 'Previous page');
  const first = el('button', { type: 'button', id: 'page-first', disabled: !current }, 'First page');
  const nextBtn = el('button', { type: 'button', id: 'page-next', disabled: next === null || next === undefined },
    'Next page');
  prev.addEventListener('click', () => {
    const back = stack.length > 0 ? stack[stack.length - 1] : '';
    go(back);
  });
  first.addEventListener('click', () => go(''));
  nextBtn.addEventListener('click', () => {
    saveStack(name, filterKey, [...stack, current]);
    go(String(next));
  });
  return el('nav', { class: 'pager', 'aria-label': label || 'Pages', dataset: { cursorParam } }, first, prev, nextBtn);
}
