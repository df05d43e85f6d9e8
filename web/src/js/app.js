// The desk's shell: session, hash routing (#/cases?status=open, #/cases/17, ...), the error and
// status regions, and focus management. Each page is a module exporting render(ctx).
import { api, ApiError, setCsrfToken, setUnauthorisedHandler } from './api.js';
import { clear } from './dom.js';
import * as loginPage from './pages/login.js';
import * as dashboardPage from './pages/dashboard.js';
import * as casesPage from './pages/cases.js';
import * as casePage from './pages/case.js';
import * as subscribersPage from './pages/subscribers.js';
import * as subscriberPage from './pages/subscriber.js';
import * as exemptionsPage from './pages/exemptions.js';
import * as campaignsPage from './pages/campaigns.js';
import * as auditPage from './pages/audit.js';

const main = document.getElementById('main');
const errorRegion = document.getElementById('app-error');
const statusRegion = document.getElementById('app-status');
const nav = document.getElementById('nav');
const sessionBox = document.getElementById('session');
const whoami = document.getElementById('whoami');

let session = null;  // {user, role, csrf_token} once logged in
let renderSeq = 0;
let afterLogin = '#/dashboard';

const routes = [
  { name: 'dashboard', pattern: /^dashboard$/, page: dashboardPage },
  { name: 'cases', pattern: /^cases$/, page: casesPage },
  { name: 'cases', pattern: /^cases\/([^/]+)$/, page: casePage },
  { name: 'subscribers', pattern: /^subscribers$/, page: subscribersPage },
  { name: 'subscribers', pattern: /^subscribers\/(.+)$/, page: subscriberPage },
  { name: 'exemptions', pattern: /^exemptions$/, page: exemptionsPage },
  { name: 'campaigns', pattern: /^campaigns$/, page: campaignsPage },
  { name: 'audit', pattern: /^audit$/, page: auditPage },
];

export function showError(message) {
  errorRegion.textContent = message || '';
  errorRegion.classList.toggle('visible', Boolean(message));
}

export function setStatus(message) {
  statusRegion.textContent = message || '';
}

// Builds "#/path?query" from a path and an object of parameters (empty values left out).
export function href(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '' && v !== false) q.set(k, String(v));
  }
  const s = q.toString();
  return `#/${path}${s ? `?${s}` : ''}`;
}

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const qi = raw.indexOf('?');
  const path = qi < 0 ? raw : raw.slice(0, qi);
  const params = new URLSearchParams(qi < 0 ? '' : raw.slice(qi + 1));
  return { path, params };
}

function canAct(role) {
  return role === 'operator' || role === 'admin';
}

function setSession(s) {
  session = s;
  setCsrfToken(s ? s.csrf_token : '');
  nav.hidden = !s;
  sessionBox.hidden = !s;
  whoami.textContent = s ? `${s.user} (${s.role})` : '';
}

function markNav(name) {
  for (const a of nav.querySelectorAll('a')) {
    if (a.dataset.route === name) {
      a.setAttribute('aria-current', 'page');
    } else {
      a.removeAttribute('aria-current');
    }
  }
}

// Moves focus to the new page's heading so keyboard and screen-reader users start at the top of
// what changed (a single-page app otherwise leaves focus on the link that was activated).
// The first page of a visit keeps the browser's own start (the skip link comes first).
let firstRender = true;
function focusHeading() {
  const h1 = main.querySelector('h1');
  if (h1) {
    document.title = `${h1.textContent} — Portwarden abuse desk`;
    if (!firstRender) {
      h1.setAttribute('tabindex', '-1');
      h1.focus();
    }
  }
  firstRender = false;
}

function ctxFor(seq, path, params, match) {
  return {
    main,
    params,
    arg: match && match[1] !== undefined ? decodeURIComponent(match[1]) : undefined,
    user: session ? session.user : '',
    role: session ? session.role : '',
    canAct: session ? canAct(session.role) : false,
    href,
    navigate: (target) => {
      if (location.hash === target) {
        render({ keepFocus: false });
      } else {
        location.hash = target;
      }
    },
    rerender: () => render({ keepFocus: true }),
    showError,
    setStatus,
    // False once another navigation started: pages check it after each await before touching the DOM.
    current: () => seq === renderSeq,
  };
}

async function render({ keepFocus = false } = {}) {
  const seq = ++renderSeq;
  const { path, params } = parseHash();
  if (!keepFocus) showError('');
  if (!session) {
    if (path && path !== 'login') afterLogin = location.hash;
    markNav('');
    clear(main);
    loginPage.render({
      ...ctxFor(seq, path, params, null),
      onLogin: (s) => {
        setSession(s);
        const target = afterLogin;
        afterLogin = '#/dashboard';
        if (location.hash === target) {
          render();
        } else {
          location.hash = target;
        }
      },
    });
    focusHeading();
    return;
  }
  if (path === '' || path === 'login') {
    location.replace('#/dashboard');
    return;
  }
  const route = routes.find((r) => r.pattern.test(path));
  markNav(route ? route.name : '');
  if (!route) {
    clear(main);
    const h1 = document.createElement('h1');
    h1.textContent = 'Page not found';
    main.appendChild(h1);
    focusHeading();
    return;
  }
  const match = path.match(route.pattern);
  clear(main);
  setStatus('Loading…');
  try {
    await route.page.render(ctxFor(seq, path, params, match));
  } catch (e) {
    if (seq !== renderSeq) return;
    if (e instanceof ApiError && e.status === 401) return;  // the unauthorised handler took over
    showError(e instanceof ApiError ? e.message : `Something went wrong in the page: ${e.message}`);
    if (!(e instanceof ApiError)) console.error(e);
  } finally {
    if (seq === renderSeq) setStatus('');
  }
  if (seq === renderSeq && !keepFocus) focusHeading();
}

setUnauthorisedHandler(() => {
  if (!session) return;
  setSession(null);
  render().then(() => showError('Your session has ended. Please log in again.'));
});

document.getElementById('logout').addEventListener('click', async () => {
  try {
    await api.logout();
  } catch (e) {
    // Logging out of a session the server already dropped is still logged out.
  }
  setSession(null);
  afterLogin = '#/dashboard';
  location.hash = '#/login';
});

window.addEventListener('hashchange', () => render());

async function start() {
  let problem = '';
  try {
    setSession(await api.me());
  } catch (e) {
    // 401 is simply "not logged in"; anything else (server down, 500) is worth saying on the login page.
    if (!(e instanceof ApiError) || e.status !== 401) problem = e.message;
    setSession(null);
  }
  await render();
  if (problem) showError(problem);
}

start();
