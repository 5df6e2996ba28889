// a11y.test.mjs - every page in pages.json, in Chinese and English, audited with
// axe (WCAG 2.0/2.1/2.2 A and AA) in normal mode, in elder mode, and at 320px
// wide, where it must also fit without horizontal scrolling (WCAG 1.4.10).
// Each page also has one h1, no skipped heading levels, and the landmarks; in
// elder mode, the same visit also measures elder mode's sizes (lib.mjs,
// elderMeasure: text, line height, targets, main actions, no pop-ups).
// Pages that need an account are visited signed in through /login; the
// language and mode are chosen with /prefs. The audits of one account,
// language and mode share a page that goes from one address to the next
// (lib.mjs, withAuditPage); E2E_SHARD=K/N runs the Kth of N parts of the list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  launch, newContext, withAuditPage, loginAvailable, axe, describeViolations, watchCsp, elderMeasure, assertElder,
  PAGES_BY_VISITOR, shard,
} from './lib.mjs';

let browser;
let canSignIn = false;
before(async () => {
  browser = await launch();
  const ctx = await newContext(browser);
  canSignIn = await loginAvailable(await ctx.newPage());
  await ctx.close();
});
after(async () => { await browser?.close(); });

const MODES = [
  { name: 'normal', elder: false, viewport: { width: 1280, height: 900 } },
  { name: 'elder', elder: true, viewport: { width: 1280, height: 900 } },
  { name: '320px', elder: false, viewport: { width: 320, height: 640 } },
  { name: 'elder 320px', elder: true, viewport: { width: 320, height: 640 } },
];

// Headings and landmarks that axe's WCAG rules leave to best practice.
function structure() {
  const levels = [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map((h) => +h.tagName[1]);
  const skips = [];
  for (let i = 1; i < levels.length; i++) {
    if (levels[i] > levels[i - 1] + 1) skips.push(`h${levels[i - 1]} then h${levels[i]}`);
  }
  return {
    h1: levels.filter((l) => l === 1).length,
    skips,
    main: document.querySelectorAll('main').length,
    header: !!document.querySelector('body > header'),
    footer: !!document.querySelector('body > footer'),
  };
}

const CASES = [];
for (const lang of ['zh', 'en']) {
  for (const mode of MODES) {
    for (const p of PAGES_BY_VISITOR) CASES.push({ lang, mode, p });
  }
}

for (const { lang, mode, p } of shard(CASES)) {
  const name = `${p.path} as ${p.as || 'visitor'} (${lang}, ${mode.name})`;
  test(name, async () => {
    assert.ok(!p.as || canSignIn, 'signing in through /login works');
    const shape = { who: p.as, lang, elder: mode.elder, viewport: mode.viewport, withAxe: true };
    await withAuditPage(browser, shape, async (page) => {
      const csp = watchCsp(page);
      const popups = [];
      const onDialog = (d) => { popups.push(d.message()); d.dismiss(); };
      page.on('dialog', onDialog);
      try {
        const res = await page.goto(p.path);
        if (p.as && new URL(page.url()).pathname === '/login' && p.path !== '/login') {
          assert.fail(`${p.path} sent a signed-in ${p.as} to /login`);
        }
        assert.equal(res.status(), p.status || 200, `${p.path} status`);
        assert.equal(await page.getAttribute('html', 'lang'), lang === 'en' ? 'en' : 'zh-CN');
        assert.equal(await page.evaluate(() => document.documentElement.classList.contains('elder')), mode.elder);
        if (mode.elder) assertElder(await page.evaluate(elderMeasure), popups);
        const violations = await axe(page);
        assert.equal(violations.length, 0, describeViolations(name, violations));
        const s = await page.evaluate(structure);
        assert.equal(s.h1, 1, 'exactly one h1');
        assert.deepEqual(s.skips, [], 'heading levels never skip (h2 then h4)');
        assert.deepEqual([s.main, s.header, s.footer], [1, true, true], 'landmarks: one main, a header, a footer');
        if (mode.viewport.width === 320) {
          const sw = await page.evaluate(() => document.documentElement.scrollWidth);
          assert.ok(sw <= 320, `${name}: scrollWidth ${sw} > 320 (horizontal scrolling)`);
        }
        assert.deepEqual(csp.problems, [], 'the Content-Security-Policy blocked something');
      } finally {
        csp.stop();
        page.off('dialog', onDialog);
      }
    });
  });
}
