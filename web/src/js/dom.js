// DOM helpers. Every string from the API is untrusted (subscriber ids are SASL logins), so text only
// ever enters the page through textContent or attribute values set by the DOM API; nothing here
// parses HTML.

// el('a', {href: '#/x', dataset: {caseId: 3}}, 'text', child, ...) -> element.
// Attributes: `dataset` (object), `on` (event -> listener), boolean true/false for flag attributes,
// null/undefined skipped; children: strings (as text nodes), numbers, nodes, arrays, null (skipped).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'dataset') {
      for (const [k, v] of Object.entries(value)) node.dataset[k] = String(v);
    } else if (name === 'on') {
      for (const [event, fn] of Object.entries(value)) node.addEventListener(event, fn);
    } else if (value === true) {
      node.setAttribute(name, '');
    } else {
      node.setAttribute(name, String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) {
      append(node, child);
    } else if (child instanceof Node) {
      node.appendChild(child);
    } else {
      node.appendChild(document.createTextNode(String(child)));
    }
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
}

// "2026-11-27 16:40:05 UTC": the desk works across time zones, and audit trails are compared in UTC.
export function fmtTime(ms) {
  if (ms === null || ms === undefined) return '—';
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export function timeEl(ms) {
  if (ms === null || ms === undefined) return el('span', {}, '—');
  return el('time', { datetime: new Date(ms).toISOString() }, fmtTime(ms));
}

export function fmtNumber(n) {
  if (n === null || n === undefined) return '—';
  if (typeof n === 'number') return n.toLocaleString('en');
  return String(n);
}

// A semantic table: caption, column headers with scope="col", optional row header (first cell as
// <th scope="row">). `rows` are arrays of cells (string | number | Node); `rowAttrs(i)` adds
// attributes (data-case-id, ...) to each <tr>.
export function table({
  id, caption, columns, rows, rowHeader = false, rowAttrs = () => ({}), empty = 'Nothing to show.', compact = false,
}) {
  const head = el('thead', {}, el('tr', {}, columns.map((c) => el('th', { scope: 'col' }, c))));
  const body = el('tbody');
  rows.forEach((cells, i) => {
    const tr = el('tr', rowAttrs(i));
    cells.forEach((cell, j) => {
      tr.appendChild(rowHeader && j === 0 ? el('th', { scope: 'row' }, cell) : el('td', {}, cell));
    });
    body.appendChild(tr);
  });
  if (rows.length === 0) {
    body.appendChild(el('tr', {}, el('td', { colspan: columns.length, class: 'empty' }, empty)));
  }
  return el('table', { id, class: compact ? 'data compact' : 'data' }, el('caption', {}, caption), head, body);
}

// A labelled field; every input on the desk gets a visible <label for>.
export function field(label, input, hint) {
  const hintId = hint ? `${input.id}-hint` : null;
  if (hintId) input.setAttribute('aria-describedby', hintId);
  return el('div', { class: 'field' }, el('label', { for: input.id }, label), input,
    hint ? el('p', { id: hintId, class: 'hint' }, hint) : null);
}

export function select(id, options, value) {
  const s = el('select', { id, name: id });
  for (const [v, text] of options) {
    const o = el('option', { value: v }, text);
    if (v === value) o.selected = true;
    s.appendChild(o);
  }
  return s;
}

// A description list from [term, value] pairs; `ids` gives testable ids to some values.
export function facts(pairs) {
  const dl = el('dl', { class: 'facts' });
  for (const [term, value, id] of pairs) {
    dl.appendChild(el('dt', {}, term));
    dl.appendChild(el('dd', { id }, value));
  }
  return dl;
}
