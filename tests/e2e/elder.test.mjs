// elder.test.mjs - the elder-mode (长辈版) switch and the read-aloud button.
// Every page's elder-mode measurements (text size, line height, target sizes,
// no pop-ups; lib.mjs, elderMeasure) are taken by a11y.test.mjs in the same
// visit as its axe audit of the page in elder mode, at 1280px and at 320px.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newContext, setPrefs } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('the elder switch turns it on and off, labelled for what it does', async () => {
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

test('the read-aloud button shows only where the browser can speak', async () => {
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
