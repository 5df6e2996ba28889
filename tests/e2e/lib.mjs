// lib.mjs - what every browser test shares: the server's URL (DGOV_URL), the
// system Chromium started headless with no network beyond loopback, the demo
// accounts, sign-in through /login, the /prefs switches, and an axe audit.
// Never downloads a browser: playwright-core drives /usr/bin/chromium.
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));

export const BASE = (process.env.DGOV_URL || 'http://127.0.0.1:8080').replace(/\/$/, '');
export const PASSWORD = 'Demo-2026!'; // DG_DEMO_PASSWORD in src/demo/demo.h
export const ACCOUNTS = {
  citizen: 'zhangsan', // DG_DEMO_CITIZEN
  staff: 'mz_zhao', // DG_DEMO_STAFF
  agent: 'agent_hx', // DG_DEMO_AGENT
  admin: 'admin', // DG_DEMO_ADMIN
};
export const PAGES = JSON.parse(readFileSync(join(here, 'pages.json'), 'utf8'));
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// One browser per test file. Playwright gives it a fresh temporary profile
// (user-data-dir), and every context in it is isolated (its own cookies).
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

export async function newContext(browser, opts = {}) {
  // Chinese is the default language; tests that want another locale say so.
  return browser.newContext({ baseURL: BASE, locale: 'zh-CN', ...opts });
}

// Fail on anything the Content-Security-Policy blocked (inline scripts or styles).
export function watchCsp(page) {
  const problems = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  return problems;
}

// The language and elder-mode switches, the way a visitor flips them: /prefs links.
export async function setPrefs(page, { lang, elder }) {
  const q = new URLSearchParams();
  if (lang) q.set('lang', lang);
  if (elder !== undefined) q.set('elder', elder ? '1' : '0');
  q.set('back', '/');
  const res = await page.goto(`/prefs?${q}`);
  if (!res || res.status() !== 200) throw new Error(`/prefs answered ${res && res.status()}`);
}

// Is there a /login page to sign in with yet (engineer D's)?
export async function loginAvailable(page) {
  const res = await page.goto('/login');
  return res.status() === 200 && (await page.locator('input[name=password]').count()) > 0;
}

export async function signIn(page, who) {
  const username = ACCOUNTS[who] || who;
  await page.goto('/login');
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', PASSWORD);
  await Promise.all([page.waitForNavigation(), page.locator('form[action="/login"] button[type=submit]').click()]);
  const out = page.locator('form[action="/logout"]');
  if ((await out.count()) === 0) throw new Error(`sign-in as ${username} failed at ${page.url()}`);
}

// Run axe in the page (evaluated through the debugger, so the CSP does not block it).
export async function axe(page) {
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async (tags) => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
    }));
  }, AXE_TAGS);
  return result;
}

export function describeViolations(where, violations) {
  return `${where}: ${violations.length} axe violation(s)\n` + violations
    .map((v) => `  [${v.impact}] ${v.id}: ${v.help}\n    ${v.nodes.join('\n    ')}`)
    .join('\n');
}
