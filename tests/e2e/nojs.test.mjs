// nojs.test.mjs - the site works with JavaScript off: the language and elder
// switches are plain links, sign-in and sign-out are plain forms, the service
// search is a GET form.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newContext, loginAvailable, ACCOUNTS, PASSWORD } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('switches, search and sign-in without JavaScript', async (t) => {
  const ctx = await newContext(browser, { javaScriptEnabled: false });
  try {
    const page = await ctx.newPage();
    await page.goto('/services');
    await page.getByRole('link', { name: 'English', exact: true }).click();
    assert.equal(new URL(page.url()).pathname, '/services', 'came back to the same page');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.getByRole('link', { name: '长辈版 Elder mode', exact: true }).click();
    assert.equal(await page.getAttribute('html', 'class'), 'elder');
    await page.getByRole('link', { name: 'Standard mode', exact: true }).click();
    await page.getByRole('link', { name: '中文', exact: true }).click();
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');

    await page.goto('/');
    await page.fill('#service-search', '社保');
    await Promise.all([page.waitForNavigation(), page.press('#service-search', 'Enter')]);
    assert.equal(new URL(page.url()).pathname, '/services');
    assert.equal(new URL(page.url()).searchParams.get('q'), '社保');
    assert.equal(await page.inputValue('#service-search'), '社保', 'the query is kept');

    assert.ok(await loginAvailable(page), 'the sign-in page is served');
    await page.fill('input[name=username]', ACCOUNTS.citizen);
    await page.fill('input[name=password]', PASSWORD);
    await Promise.all([page.waitForNavigation(), page.locator('form[action="/login"] button[type=submit]').click()]);
    assert.ok(await page.locator('form[action="/logout"]').count() >= 1, 'signed in');
    await Promise.all([page.waitForNavigation(), page.locator('header form[action="/logout"] button').click()]);
    await page.goto('/');
    assert.equal(await page.locator('form[action="/logout"]').count(), 0, 'signed out');
  } finally {
    await ctx.close();
  }
});
