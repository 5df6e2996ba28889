// journeys.test.mjs - a new resident's journeys as they walk them, with
// JavaScript off, in normal and elder mode (the application in Chinese and English), each page audited with axe: sign in
// from a page and come back to it, page to the last service, switch language
// on a form shown with its errors (answers kept, no 405), save an incomplete
// page and resume at the question left, withdraw with a confirmation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newContext, setPrefs, signIn, ACCOUNTS, PASSWORD, audited, click } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// What the case pages say, in each language (templates/i18n/cases.*.json).
const SAYS = {
  zh: { coming: '接下来', receipt: '办件回执', withdraw: '撤回申请', withdrawn: '申请已撤回' },
  en: { coming: 'What happens next', receipt: 'Receipt for your application', withdraw: 'Withdraw the application', withdrawn: 'Application withdrawn' },
};

const PDF = Buffer.from('%PDF-1.4\n% a test document\n');

for (const elder of [false, true]) {
  const mode = elder ? 'elder' : 'normal';
  const viewport = elder ? { width: 320, height: 800 } : { width: 1280, height: 900 };

  test(`sign in from a page, page through services, switch language on a form error (${mode}, no JavaScript)`, async () => {
    const ctx = await newContext(browser, { javaScriptEnabled: false, viewport });
    const actx = await newContext(browser, { viewport });
    try {
      const auditor = await actx.newPage();
      const page = await ctx.newPage();
      page.setDefaultTimeout(15000);
      await setPrefs(page, { elder });
      // the last page of services is reachable, with its count
      await page.goto('/services');
      assert.match(await page.locator('main').innerText(), /共找到事项数： \d+ · 本页显示第 1–20 项/);
      await click(page, 'nav.pagination a[rel=next]');
      assert.equal(new URL(page.url()).search, '?page=2');
      assert.equal(await page.locator('nav.pagination a[rel=next]').count(), 0, 'the last page has no next');
      await audited(auditor, page, `services page 2 (${mode})`);
      // sign in from here, and come back here
      await click(page, 'header a[href^="/login"]');
      await page.fill('#username', ACCOUNTS.citizen);
      // a form error first: no password
      await click(page, 'form[action="/login"] button[type=submit]');
      assert.equal(await page.locator('.error-summary').count(), 1);
      // the language switch on the error page: the same form, in English, the name kept
      await click(page, 'button[name=pref_lang]');
      assert.equal(new URL(page.url()).pathname, '/login');
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      assert.equal(await page.inputValue('#username'), ACCOUNTS.citizen);
      assert.equal(await page.locator('.error-summary').count(), 1, 'the error is said again, in English');
      await audited(auditor, page, `sign-in error after switching language (${mode})`);
      await page.fill('#password', PASSWORD);
      await click(page, 'form[action="/login"] button[type=submit]');
      assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/services?page=2');
      await setPrefs(page, { lang: 'zh' });
    } finally {
      await ctx.close();
      await actx.close();
    }
  });

  for (const lang of ['zh', 'en']) test(`save an incomplete page, resume at the question left, withdraw with a confirmation (${lang}, ${mode}, no JavaScript)`, async () => {
    const ctx = await newContext(browser, { javaScriptEnabled: false, viewport });
    const actx = await newContext(browser, { viewport });
    try {
      const auditor = await actx.newPage();
      const cit = await ctx.newPage();
      cit.setDefaultTimeout(15000);
      await signIn(cit, 'citizen');
      await setPrefs(cit, { elder, lang });
      const says = SAYS[lang];
      await cit.goto('/services/990100-MZ-007/apply');
      await click(cit, 'form[action="/services/990100-MZ-007/apply"] button[type=submit]');
      const ref = new URL(cit.url()).pathname.split('/')[3];
      await click(cit, 'main form[method=post] button[type=submit]:not([name])');
      // page 2 left empty, saved for later: that works
      assert.match(new URL(cit.url()).pathname, /\/form\/2$/);
      await click(cit, 'main form[method=post] button[name=later]');
      assert.equal(new URL(cit.url()).pathname, '/my/cases');
      assert.ok((await cit.content()).includes(ref));
      // resuming opens the question still to answer
      await click(cit, `a[href="/my/cases/${ref}/resume"]`);
      assert.equal(new URL(cit.url()).pathname, `/my/cases/${ref}/form/2`);
      await cit.fill('#purpose', '父亲去世，申请殡葬补贴');
      await click(cit, 'main form[method=post] button[type=submit]:not([name])');
      await cit.setInputFiles('#m1', { name: 'id.pdf', mimeType: 'application/pdf', buffer: PDF });
      await click(cit, 'main form[method=post] button[type=submit]:not([name])');
      await click(cit, `form[action="/my/cases/${ref}/submit"] button[type=submit]`);
      // the steps to come and the receipt
      assert.ok((await cit.locator('main').innerText()).includes(says.coming));
      await audited(auditor, cit, `case page with the steps to come (${lang}, ${mode})`);
      await click(cit, `a[href="/my/cases/${ref}/receipt"]`);
      assert.ok((await cit.locator('h1').innerText()).includes(says.receipt));
      await audited(auditor, cit, `receipt (${lang}, ${mode})`);
      await cit.goto(`/my/cases/${ref}`);
      // withdraw: a question first, then words for what happened
      await click(cit, `a[href="/my/cases/${ref}/withdraw"]`);
      assert.equal(new URL(cit.url()).pathname, `/my/cases/${ref}/withdraw`);
      await audited(auditor, cit, `withdraw question (${lang}, ${mode})`);
      await click(cit, `main a[href="/my/cases/${ref}"].button`);
      assert.ok((await cit.content()).includes(says.withdraw), 'not withdrawn by going back');
      await click(cit, `a[href="/my/cases/${ref}/withdraw"]`);
      await click(cit, `form[action="/my/cases/${ref}/withdraw"] button[type=submit]`);
      assert.ok((await cit.locator('main').innerText()).includes(says.withdrawn));
      await audited(auditor, cit, `withdrawn (${lang}, ${mode})`);
    } finally {
      await ctx.close();
      await actx.close();
    }
  });
}
