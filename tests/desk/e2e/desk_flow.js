// The abuse desk in headless Chromium (playwright-core driving Debian's chromium): the two flows of
// issue 6's end-to-end test. Run by tests/desk/desk_e2e_test.sh, which sets up Postfix, the daemon
// and the held subscribers first.
//
//   node desk_flow.js operator BASE_URL USER PASSWORD SUBSCRIBER SHOT_DIR
//     An operator logs in, opens the dashboard, filters the case list for SUBSCRIBER, opens the case,
//     reads the evidence timeline and the held queue ids, and releases the held mail.
//   node desk_flow.js selfhelp HELP_URL SHOT_DIR
//     The customer opens the self-help link from the notice and presses "I have fixed it".
//
// Prints one JSON line with what the pages showed, including every page's HTML (for the privacy
// check, done by the caller). Exit 0 when the flow completed, 1 when a step showed something else,
// 2 on an error (a selector never appeared, the browser did not start).
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

const executablePath = process.env.CHROMIUM || '/usr/lib/chromium/chromium';

async function withPage(shotDir, fn) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-desk-profile-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
    timeout: 30000,
  });
  const consoleErrors = [];
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    page.setDefaultTimeout(15000);
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
    page.on('pageerror', (e) => consoleErrors.push(String(e)));
    fs.mkdirSync(shotDir, { recursive: true });
    const result = await fn(page, async (name) => {
      await page.screenshot({ path: path.join(shotDir, `${name}.png`), fullPage: true });
      return page.content();
    });
    result.console_errors = consoleErrors;
    return result;
  } finally {
    await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

async function operatorFlow(base, user, password, subscriber, shotDir) {
  return withPage(shotDir, async (page, shot) => {
    const pages = [];
    await page.goto(`${base}/desk/index.html`, { waitUntil: 'load' });
    await page.fill('#login-user', user);
    await page.fill('#login-password', password);
    await page.click('#login-submit');
    await page.waitForSelector('h1#dashboard');
    await page.waitForSelector('#case-counts tr[data-status]');
    pages.push(await shot('1-dashboard'));

    await page.goto(`${base}/desk/index.html#/cases`, { waitUntil: 'load' });
    await page.waitForSelector('#case-filters');
    await page.fill('#filter-subscriber', subscriber);
    await page.click('#filter-apply');
    const row = await page.waitForSelector('#case-list tbody tr[data-case-id]');
    const caseId = await row.getAttribute('data-case-id');
    pages.push(await shot('2-case-list'));

    await row.$('a.case-link').then((a) => a.click());
    await page.waitForSelector(`#case-detail[data-case-id="${caseId}"]`);
    const status = (await page.textContent('#case-status')).trim();
    const eventKinds = await page.$$eval('#case-events tr[data-kind]', (rows) => rows.map((r) => r.dataset.kind));
    const evidence = (await page.textContent('#case-summary')).trim();
    const held = await page.$$eval('#case-held li[data-queue-id]', (li) => li.map((l) => l.dataset.queueId));
    pages.push(await shot('3-case-detail'));

    await page.fill('#action-text', 'customer called; the infected PC was cleaned');
    await page.click('#action-release');
    await page.waitForFunction(() => {
      const s = document.querySelector('#case-status');
      return s && s.textContent.trim() === 'monitoring';
    }, null, { timeout: 30000 });
    const after = (await page.textContent('#case-status')).trim();
    const eventsAfter = await page.$$eval('#case-events tr[data-kind]', (rows) => rows.map((r) => r.dataset.kind));
    pages.push(await shot('4-released'));
    return {
      flow: 'operator', case_id: Number(caseId), status_before: status, status_after: after,
      event_kinds: eventKinds, event_kinds_after: eventsAfter, evidence, held, pages,
    };
  });
}

async function selfHelpFlow(url, shotDir) {
  return withPage(shotDir, async (page, shot) => {
    const pages = [];
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector('#fixed');
    const status = (await page.textContent('#case-status')).trim();
    const heldCount = Number((await page.textContent('#held-count')).trim());
    const evidence = (await page.textContent('#evidence')).trim();
    pages.push(await shot('5-self-help'));
    await Promise.all([page.waitForNavigation({ waitUntil: 'load' }), page.click('#fixed')]);
    const outcome = (await page.textContent('#outcome')).trim();
    pages.push(await shot('6-fixed'));
    return { flow: 'selfhelp', status_before: status, held_count: heldCount, evidence, outcome, pages };
  });
}

(async () => {
  const [mode, ...args] = process.argv.slice(2);
  let result;
  if (mode === 'operator') {
    result = await operatorFlow(...args);
    process.exitCode = result.status_after === 'monitoring' ? 0 : 1;
  } else if (mode === 'selfhelp') {
    result = await selfHelpFlow(...args);
    process.exitCode = result.outcome === 'released' ? 0 : 1;
  } else {
    console.error('usage: desk_flow.js operator BASE USER PASSWORD SUBSCRIBER SHOT_DIR | selfhelp URL SHOT_DIR');
    process.exit(2);
  }
  console.log(JSON.stringify(result));
})().catch((e) => { console.error(e); process.exit(2); });
