// lib.mjs - what every browser test shares: the server's URL (DGOV_URL), the
// system Chromium started headless with no network beyond loopback, the demo
// accounts, sign-in through /login, the /prefs switches, and an axe audit.
// Never downloads a browser: playwright-core drives /usr/bin/chromium.
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
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
// The same pages grouped by who visits them (in the order each first appears),
// so that the audits of one shape follow each other (withAuditPage).
export const PAGES_BY_VISITOR = [...new Set(PAGES.map((p) => p.as))]
  .flatMap((who) => PAGES.filter((p) => p.as === who));
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export function launchOptions() {
  return {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  };
}

// The run's shared browser when scripts/test.sh started one (browser.mjs,
// DGOV_BROWSER_WS); otherwise one browser for this test file. Playwright gives
// a launched browser a fresh temporary profile (user-data-dir), and every
// context is isolated (its own cookies); close() on a shared browser closes
// this file's contexts and disconnects, leaving the browser to the others.
export async function launch() {
  if (process.env.DGOV_BROWSER_WS) return chromium.connect(process.env.DGOV_BROWSER_WS);
  return chromium.launch(launchOptions());
}

// E2E_SHARD=K/N: this run takes the Kth of N equal runs of list, in order
// (cases of one shape stay together); unset, the whole list.
export function shard(list) {
  const m = /^(\d+)\/(\d+)$/.exec(process.env.E2E_SHARD || '');
  if (!m) return list;
  const k = Number(m[1]) - 1;
  const n = Number(m[2]);
  if (!(n >= 1 && k >= 0 && k < n)) throw new Error(`bad E2E_SHARD ${process.env.E2E_SHARD}`);
  const size = Math.ceil(list.length / n);
  return list.slice(k * size, (k + 1) * size);
}

// Whether this run takes the tests that are not split (the first shard does).
export function firstShard() {
  const m = /^(\d+)\//.exec(process.env.E2E_SHARD || '');
  return !m || m[1] === '1';
}

export async function newContext(browser, opts = {}) {
  // Chinese is the default language; tests that want another locale say so.
  return browser.newContext({ baseURL: BASE, locale: 'zh-CN', ...opts });
}

// Collect what the Content-Security-Policy blocked (inline scripts or styles)
// into problems, until stop().
export function watchCsp(page) {
  const problems = [];
  const listen = (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  };
  page.on('console', listen);
  return { problems, stop: () => page.off('console', listen) };
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

// The page audits (a11y, elder) visit many pages in one shape: who is signed
// in, the language, elder mode and the viewport. withAuditPage() keeps one page
// for the current shape, made the way a visitor would (sign in through /login,
// choose with /prefs), and navigates it from one audited address to the next:
// each audit gets a fresh document, while the renderer, and the axe it has
// compiled, carry over. A new context per audit would cost a renderer process
// and axe compiled again, about twice the CPU of the audit itself (so the
// audits list their cases shape by shape). With shape.withAxe the page's
// context puts axe in every document it loads (see axe()). A failed audit
// drops the page, so the next one starts from a new one.
let current = null; // { key, page: Promise<Page> }
export async function withAuditPage(browser, shape, fn) {
  const { who, lang, elder, viewport, withAxe } = shape;
  const key = JSON.stringify([who, lang, elder, viewport, !!withAxe]);
  if (current?.key !== key) {
    await dropAuditPage();
    current = { key, page: openAuditPage(browser, shape) };
  }
  const page = await current.page.catch(async (e) => { current = null; throw e; });
  try {
    return await fn(page);
  } catch (e) {
    await whereItFailed(e, page);
    await dropAuditPage();
    throw e;
  }
}

async function openAuditPage(browser, { who, lang, elder, viewport, withAxe }) {
  const ctx = await newContext(browser, { viewport });
  try {
    if (withAxe) await ctx.addInitScript({ content: AXE_SOURCE });
    const page = await ctx.newPage();
    if (who) await signIn(page, who);
    await setPrefs(page, { lang, elder });
    return page;
  } catch (e) {
    await ctx.close();
    throw e;
  }
}

async function dropAuditPage() {
  const was = current;
  current = null;
  const page = await was?.page.catch(() => null);
  await page?.context().close().catch(() => {});
}

// Run axe in the page (evaluated through the debugger, so the CSP does not
// block it). An audit page made withAxe already has axe in every document it
// loads: the context adds axe's source as an init script (also through the
// debugger), which sends its half a megabyte to the browser once per shape
// instead of once per audit, and was about a fifth quicker per audit. Any
// other page gets axe here, when the run finds it missing.
export async function axe(page) {
  let result = await page.evaluate(runAxe, AXE_TAGS);
  if (result === null) {
    await page.evaluate(AXE_SOURCE);
    result = await page.evaluate(runAxe, AXE_TAGS);
  }
  return result;
}

// evaluated in the page: the violations, or null when axe is not loaded there
async function runAxe(tags) {
  /* global axe */
  if (typeof axe === 'undefined') return null;
  const r = await axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
  return r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => `${n.target.join(' ')}: ${n.failureSummary}`),
  }));
}

export function describeViolations(where, violations) {
  return `${where}: ${violations.length} axe violation(s)\n` + violations
    .map((v) => `  [${v.impact}] ${v.id}: ${v.help}\n    ${v.nodes.join('\n    ')}`)
    .join('\n');
}

// The journeys walk their pages without JavaScript, which axe needs: a page's
// HTML is audited in a page of the same origin that has it on (auditor).
export async function audited(auditor, page, where) {
  await auditor.goto('/help');
  await auditor.setContent(await page.content(), { waitUntil: 'load' });
  const v = await axe(auditor);
  assert.equal(v.length, 0, describeViolations(where, v));
}

// A failed step's error, told where the page stood: its address, the error
// summary it shows and the start of its main text, so a journey that stops
// on a form says which message held it there.
export async function whereItFailed(err, page) {
  try {
    const said = await page.locator('.error-summary').allInnerTexts();
    const main = await page.locator('main').first().innerText({ timeout: 2000 });
    err.message += `\n    page: ${page.url()}` +
      (said.length ? `\n    error summary: ${said.join(' | ').replace(/\s+/g, ' ')}` : '') +
      `\n    main: ${main.replace(/\s+/g, ' ').slice(0, 600)}`;
  } catch {
    // the page is gone or closed: the error stands as it is
  }
  return err;
}

// Click the first element locator finds, and wait for the page it leads to.
export async function click(page, locator) {
  await Promise.all([page.waitForNavigation(), page.locator(locator).first().click()]);
}

// Elder mode (长辈版) measured in the browser, not assumed from the CSS: body
// text >= 20px, line height >= 1.5 x the font size, every visible link, button
// and field at least 44 x 44 CSS px (inline links in text included: elder mode
// makes them inline-flex boxes of 44px), main actions (.button-primary) at
// least 60px tall, and no pop-ups. elderMeasure is evaluated in the page;
// assertElder checks what it found, with the dialogs the page opened (popups).
export function elderMeasure() {
  const body = getComputedStyle(document.body);
  const font = parseFloat(body.fontSize);
  let lh = parseFloat(body.lineHeight);
  if (Number.isNaN(lh)) lh = font * 1.2; // "normal"
  const small = [];
  for (const el of document.querySelectorAll('a, button, input, select, textarea, summary')) {
    if (el.type === 'hidden') continue;
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    if (r.width === 0 || r.height === 0 || s.visibility === 'hidden' || s.display === 'none') continue;
    if (el.classList.contains('skip-link')) continue; // off screen until focused; measured below
    if (r.width < 44 || r.height < 44) small.push(`${el.tagName.toLowerCase()} "${(el.textContent || el.name || '').trim().slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
  }
  const skip = document.querySelector('.skip-link')?.getBoundingClientRect();
  if (skip && (skip.width < 44 || skip.height < 44)) small.push(`skip link ${skip.width}x${skip.height}`);
  const primaryShort = [...document.querySelectorAll('.button-primary')]
    .map((el) => el.getBoundingClientRect())
    .filter((r) => r.height > 0 && r.height < 60)
    .map((r) => Math.round(r.height));
  // every visible element that holds text of its own, not only the body
  const tight = [];
  for (const el of document.querySelectorAll('main *, header *, footer *')) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const s = getComputedStyle(el);
    const f = parseFloat(s.fontSize);
    const l = parseFloat(s.lineHeight); // NaN for "normal", which is about 1.2
    if (Number.isNaN(l) || l < 1.5 * f - 0.5) tight.push(`${el.tagName.toLowerCase()}.${el.className} ${s.lineHeight}/${s.fontSize}`);
  }
  return { font, lh, small, tight: [...new Set(tight)].slice(0, 10), primaryShort, dialogs: document.querySelectorAll('dialog[open], [role=dialog]').length };
}

export function assertElder(m, popups) {
  assert.deepEqual(popups, [], 'elder mode: a pop-up appeared');
  assert.ok(m.font >= 20, `elder mode: body font-size ${m.font}px < 20px`);
  assert.ok(m.lh >= 1.5 * m.font, `elder mode: line-height ${m.lh}px < 1.5 x ${m.font}px`);
  assert.deepEqual(m.small, [], 'elder mode: targets smaller than 44x44');
  assert.deepEqual(m.tight, [], 'elder mode: text with line height under 1.5');
  assert.deepEqual(m.primaryShort, [], 'elder mode: .button-primary shorter than 60px');
  assert.equal(m.dialogs, 0, 'elder mode: no pop-ups');
}
