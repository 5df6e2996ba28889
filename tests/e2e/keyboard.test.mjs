// keyboard.test.mjs - sign in and out with the keyboard alone (WCAG 2.1.1):
// Tab from the top of the home page to the sign-in link, Enter, type the demo
// citizen's username and password, Enter; then Tab to "sign out" and Enter.
// Also: the skip link is the first stop and moves focus to the main content.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newContext, loginAvailable, ACCOUNTS, PASSWORD } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// Press Tab until the focused element matches pred (at most 40 presses).
async function tabTo(page, pred, what) {
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const hit = await page.evaluate(pred);
    if (hit) return;
  }
  assert.fail(`Tab never reached ${what}`);
}

test('skip link first, and it leads to the main content', async () => {
  const ctx = await newContext(browser);
  try {
    const page = await ctx.newPage();
    await page.goto('/');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.getAttribute('href')), '#main');
    assert.ok(await page.locator('.skip-link').isVisible(), 'the skip link shows when focused');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'main');
  } finally {
    await ctx.close();
  }
});

test('keyboard-only sign-in and sign-out', async (t) => {
  const ctx = await newContext(browser);
  try {
    const page = await ctx.newPage();
    assert.ok(await loginAvailable(page), 'the sign-in page is served');
    await page.goto('/');
    await tabTo(page, () => document.activeElement.getAttribute('href') === '/login', 'the sign-in link');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.equal(new URL(page.url()).pathname, '/login');
    await tabTo(page, () => document.activeElement.name === 'username', 'the username field');
    await page.keyboard.type(ACCOUNTS.citizen);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement.name), 'password');
    await page.keyboard.type(PASSWORD);
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.ok(await page.locator('form[action="/logout"]').count() >= 1, `signed in (at ${page.url()})`);
    assert.equal(await page.locator('a[href="/login"]').count(), 0);

    await page.goto('/');
    await tabTo(page, () => document.activeElement.closest('form[action="/logout"]') !== null, 'sign out');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    await page.goto('/');
    assert.equal(await page.locator('form[action="/logout"]').count(), 0, 'signed out');
    assert.equal(await page.locator('a[href="/login"]').count() > 0, true);
  } finally {
    await ctx.close();
  }
});

test('focus is visible on every kind of control', async () => {
  const ctx = await newContext(browser);
  try {
    const page = await ctx.newPage();
    await page.goto('/');
    const seen = new Set();
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press('Tab');
      const r = await page.evaluate(() => {
        const el = document.activeElement;
        const s = getComputedStyle(el);
        const shown = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) ||
          s.boxShadow !== 'none' || s.backgroundColor !== 'rgba(0, 0, 0, 0)';
        return { tag: el.tagName, shown, text: (el.textContent || el.name || '').trim().slice(0, 20) };
      });
      seen.add(r.tag);
      assert.ok(r.shown, `no visible focus on ${r.tag} "${r.text}"`);
    }
    assert.ok(seen.has('A') && seen.has('INPUT') && seen.has('BUTTON'));
  } finally {
    await ctx.close();
  }
});
