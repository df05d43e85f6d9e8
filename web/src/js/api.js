// The JSON API client. The session itself is the HttpOnly `pw_session` cookie the server sets; the
// CSRF token lives only in this module's memory (from login or /api/v1/me) and goes out on every
// state-changing request as X-CSRF-Token.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let csrfToken = '';
let onUnauthorised = () => {};

export function setCsrfToken(token) {
  csrfToken = token || '';
}

// Called on any 401 (an expired session): the app shows the login page.
export function setUnauthorisedHandler(fn) {
  onUnauthorised = fn;
}

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && path !== '/api/v1/login') headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'The server did not answer. Check the connection and try again.');
  }
  let data = null;
  const type = response.headers.get('Content-Type') || '';
  if (type.includes('application/json')) {
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
  }
  if (!response.ok) {
    const message = data && typeof data.error === 'string' && data.error
      ? data.error
      : `The server answered ${response.status} ${response.statusText}.`;
    const err = new ApiError(response.status, message);
    if (response.status === 401 && path !== '/api/v1/login') onUnauthorised(err);
    throw err;
  }
  return data;
}

// Query string from an object, leaving out empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '' && v !== false) q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;

export const api = {
  login: (user, password) => request('POST', '/api/v1/login', { user, password }),
  logout: () => request('POST', '/api/v1/logout', {}),
  me: () => request('GET', '/api/v1/me'),
  dashboard: () => request('GET', '/api/v1/dashboard'),
  cases: (params) => request('GET', `/api/v1/cases${query(params)}`),
  caseDetail: (id) => request('GET', `/api/v1/cases/${enc(id)}`),
  caseAction: (id, body) => request('POST', `/api/v1/cases/${enc(id)}/actions`, body),
  subscribers: (params) => request('GET', `/api/v1/subscribers${query(params)}`),
  subscriber: (id) => request('GET', `/api/v1/subscribers/${enc(id)}`),
  exemptions: (params) => request('GET', `/api/v1/exemptions${query(params)}`),
  exemptionAction: (id, body) => request('POST', `/api/v1/exemptions/${enc(id)}/actions`, body),
  campaigns: () => request('GET', '/api/v1/campaigns'),
  audit: (params) => request('GET', `/api/v1/audit${query(params)}`),
};
