// nojs.test.mjs - the site works with JavaScript off: the language and elder
// switches are plain links, sign-in and sign-out are plain forms, the service
// search is a GET form, an administrator's form (the open-data quotas) posts,
// fails with its error summary and saves at 320px.
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

test('the open-data quotas page without JavaScript, at 320px', async () => {
  const ctx = await newContext(browser, { javaScriptEnabled: false, viewport: { width: 320, height: 640 } });
  try {
    const page = await ctx.newPage();
    await page.goto('/login');
    await page.fill('input[name=username]', ACCOUNTS.admin);
    await page.fill('input[name=password]', PASSWORD);
    await Promise.all([page.waitForNavigation(), page.locator('form[action="/login"] button[type=submit]').click()]);
    await page.goto('/admin/data-access');
    const before = await page.inputValue('#anon_daily');
    // a bad value comes back as a 422 with the error summary and the value kept
    await page.fill('#anon_daily', '-5');
    const [res] = await Promise.all([page.waitForNavigation(), page.locator('form[action="/admin/data-access/settings"] button[type=submit]').click()]);
    assert.equal(res.status(), 422);
    assert.equal(await page.locator('.error-summary a[href="#anon_daily"]').count(), 1);
    assert.equal(await page.inputValue('#anon_daily'), '-5');
    // the value it had is saved again, and the page says so
    await page.fill('#anon_daily', before);
    await Promise.all([page.waitForNavigation(), page.locator('form[action="/admin/data-access/settings"] button[type=submit]').click()]);
    assert.equal(new URL(page.url()).pathname, '/admin/data-access');
    assert.equal(await page.locator('[role=status]').count(), 1);
    assert.equal(await page.inputValue('#anon_daily'), before);
  } finally {
    await ctx.close();
  }
});
