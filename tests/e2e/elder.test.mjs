// elder.test.mjs - elder mode (长辈版) measured in the browser, not assumed from
// the CSS: body text >= 20px, line height >= 1.5 x the font size, every visible
// link, button and field at least 44 x 44 CSS px (inline links in text
// included: elder mode makes them inline-flex boxes of 44px), main actions
// (.button-primary) at least 60px tall, and no pop-ups (no dialog, no alert).
// The pages of one account, language and width share a page that goes from
// one address to the next (lib.mjs, withAuditPage); E2E_SHARD=K/N runs the
// Kth of N parts of the list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newContext, setPrefs, withAuditPage, loginAvailable, PAGES_BY_VISITOR, shard, firstShard } from './lib.mjs';

let browser;
let canSignIn = false;
before(async () => {
  browser = await launch();
  const ctx = await newContext(browser);
  canSignIn = await loginAvailable(await ctx.newPage());
  await ctx.close();
});
after(async () => { await browser?.close(); });

function measure() {
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

const CASES = [];
for (const width of [1280, 320]) {
  for (const lang of ['zh', 'en']) {
    for (const p of PAGES_BY_VISITOR) CASES.push({ width, lang, p });
  }
}

for (const { width, lang, p } of shard(CASES)) {
  const name = `elder mode ${p.path} as ${p.as || 'visitor'} (${lang}, ${width}px)`;
  test(name, async () => {
    assert.ok(!p.as || canSignIn, 'signing in through /login works');
    const shape = { who: p.as, lang, elder: true, viewport: { width, height: 800 } };
    await withAuditPage(browser, shape, async (page) => {
      const popups = [];
      const onDialog = (d) => { popups.push(d.message()); d.dismiss(); };
      page.on('dialog', onDialog);
      try {
        const res = await page.goto(p.path);
        assert.equal(res.status(), p.status || 200, `${p.path} status`);
        const m = await page.evaluate(measure);
        assert.deepEqual(popups, [], 'a pop-up appeared');
        assert.ok(m.font >= 20, `body font-size ${m.font}px < 20px`);
        assert.ok(m.lh >= 1.5 * m.font, `line-height ${m.lh}px < 1.5 x ${m.font}px`);
        assert.deepEqual(m.small, [], 'targets smaller than 44x44');
        assert.deepEqual(m.tight, [], 'text with line height under 1.5');
        assert.deepEqual(m.primaryShort, [], '.button-primary shorter than 60px');
        assert.equal(m.dialogs, 0, 'no pop-ups in elder mode');
      } finally {
        page.off('dialog', onDialog);
      }
    });
  });
}

// the tests that are not split run in the first shard only
const unsplit = firstShard() ? test : () => {};

unsplit('the elder switch turns it on and off, labelled for what it does', async () => {
  const ctx = await newContext(browser);
  try {
    const page = await ctx.newPage();
    await page.goto('/help');
    await page.getByRole('link', { name: '长辈版', exact: true }).click();
    assert.equal(new URL(page.url()).pathname, '/help');
    assert.ok(await page.evaluate(() => document.documentElement.classList.contains('elder')));
    await page.getByRole('link', { name: '标准版', exact: true }).click();
    assert.ok(!(await page.evaluate(() => document.documentElement.classList.contains('elder'))));
    await setPrefs(page, { lang: 'en' });
    await page.goto('/help');
    await page.getByRole('link', { name: '长辈版 Elder mode', exact: true }).click();
    assert.ok(await page.evaluate(() => document.documentElement.classList.contains('elder')));
    assert.equal(await page.getByRole('link', { name: 'Standard mode', exact: true }).count(), 1);
  } finally {
    await ctx.close();
  }
});

unsplit('the read-aloud button shows only where the browser can speak', async () => {
  const ctx = await newContext(browser);
  try {
    const page = await ctx.newPage();
    await setPrefs(page, { elder: true });
    await page.goto('/');
    const canSpeak = await page.evaluate(() => 'speechSynthesis' in window);
    const visible = await page.locator('.read-aloud-button').isVisible();
    assert.equal(visible, canSpeak);
    await setPrefs(page, { elder: false });
    await page.goto('/');
    assert.equal(await page.locator('.read-aloud-button').count(), 0, 'only in elder mode');
  } finally {
    await ctx.close();
  }
});
