// lang.test.mjs - the language switch changes <html lang> and the words, keeps
// the visitor on the same page (query included), and is remembered; the first
// visit follows the browser's Accept-Language; a foreign back= is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newContext } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('switching language changes lang and text and comes back', async () => {
  const ctx = await newContext(browser);
  try {
    const page = await ctx.newPage();
    await page.goto('/services?q=abc');
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.equal((await page.textContent('h1')).trim(), '办事服务');
    await page.getByRole('link', { name: 'English', exact: true }).click();
    const url = new URL(page.url());
    assert.equal(url.pathname + url.search, '/services?q=abc');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal((await page.textContent('h1')).trim(), 'Services');
    await page.goto('/help');
    assert.equal(await page.getAttribute('html', 'lang'), 'en', 'remembered');
    await page.getByRole('link', { name: '中文', exact: true }).click();
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.equal((await page.textContent('h1')).trim(), '帮助与常见问题');
  } finally {
    await ctx.close();
  }
});

test('first visit follows Accept-Language', async () => {
  const ctx = await newContext(browser, { locale: 'en-US' });
  try {
    const page = await ctx.newPage();
    await page.goto('/');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
  } finally {
    await ctx.close();
  }
});

test('the switch never sends anyone off-site', async () => {
  const ctx = await newContext(browser);
  try {
    const page = await ctx.newPage();
    await page.goto('/prefs?lang=en&back=%2F%2Fevil.example%2F');
    const url = new URL(page.url());
    assert.equal(url.pathname, '/');
    assert.equal(url.host, new URL(process.env.DGOV_URL || 'http://127.0.0.1:8080').host);
  } finally {
    await ctx.close();
  }
});

// WCAG 3.1.2: on English pages every Chinese fragment carries lang="zh-CN" (issue 15
// point 17): the guide's texts, dataset titles, tags, themes and cells, holiday names.
test('Chinese text on English pages is marked as Chinese', async () => {
  const ctx = await newContext(browser, { locale: 'en-US' });
  try {
    const page = await ctx.newPage();
    for (const path of ['/services/990100-MZ-001', '/services?q=marriage', '/data',
      '/data/datasets/employment-statistics', '/data/datasets/market-entities']) {
      await page.goto(path);
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      const unmarked = await page.evaluate(() => {
        const out = [];
        const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        for (let n = walk.nextNode(); n; n = walk.nextNode()) {
          if (!/[\u3000-\u9fff]/.test(n.data)) continue;
          const el = n.parentElement;
          if (el.closest('script, style')) continue;
          const lang = el.closest('[lang]')?.getAttribute('lang') || '';
          if (!lang.startsWith('zh')) out.push(n.data.trim().slice(0, 40));
        }
        return out;
      });
      assert.deepEqual(unmarked, [], `${path}: Chinese without lang="zh-CN"`);
    }
  } finally {
    await ctx.close();
  }
});
