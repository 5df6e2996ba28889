// cases.test.mjs - a whole application journey in the browser, with JavaScript
// off, audited with axe on every page it passes through, once in normal mode
// and once in elder mode: search -> guide -> apply (a validation error and an
// upload on the way) -> accept -> supplement -> approve -> certificate ->
// rate badly -> the department's rectification reply seen by the applicant.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newContext, setPrefs, signIn, axe, describeViolations } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const PDF = Buffer.from('%PDF-1.4\n% a test document\n');

// The journey runs with JavaScript off; axe needs it, so each page's HTML is
// audited in a second page of the same origin that has it on.
let auditor;
async function audited(page, where) {
  await auditor.goto('/help');
  await auditor.setContent(await page.content(), { waitUntil: 'load' });
  const v = await axe(auditor);
  assert.equal(v.length, 0, describeViolations(where, v));
}

async function submit(page, formSelector, button) {
  const b = button ? page.locator(`${formSelector} button[value="${button}"]`) : page.locator(`${formSelector} button[type=submit]`).first();
  await Promise.all([page.waitForNavigation(), b.click()]);
}

for (const elder of [false, true]) {
  test(`apply, decide, rate and see the reply (${elder ? 'elder' : 'normal'} mode, no JavaScript)`, async () => {
    const opts = { javaScriptEnabled: false, viewport: elder ? { width: 390, height: 844 } : { width: 1280, height: 900 } };
    const cctx = await newContext(browser, opts);
    const sctx = await newContext(browser, opts);
    const actx = await newContext(browser, { viewport: opts.viewport });
    auditor = await actx.newPage();
    try {
      const cit = await cctx.newPage();
      cit.setDefaultTimeout(15000);
      await signIn(cit, 'citizen');
      await setPrefs(cit, { elder });
      // find the service and start
      await cit.goto('/services?q=%E6%AE%A1%E8%91%AC');
      await Promise.all([cit.waitForNavigation(), cit.locator('a[href="/services/990100-MZ-007"]').first().click()]);
      await Promise.all([cit.waitForNavigation(), cit.locator('a[href="/services/990100-MZ-007/apply"]').click()]);
      await audited(cit, 'start page');
      await submit(cit, 'form[action="/services/990100-MZ-007/apply"]');
      const ref = new URL(cit.url()).pathname.split('/')[3];
      assert.match(ref, /^\d{8}-\d{6}$/);
      // page 1: name and phone come from the account, shown (the phone masked), not asked
      assert.equal(await cit.locator('input#phone').count(), 0, 'the account\'s phone is not an input');
      assert.ok((await cit.locator('#phone').innerText()).includes('138****0001'), 'the phone is shown masked');
      await submit(cit, 'main form[method=post]');
      // page 2: nothing written first, so the error summary
      await submit(cit, 'main form[method=post]');
      assert.equal(await cit.locator('.error-summary').count(), 1, 'the error summary is shown');
      await audited(cit, 'question page with an error');
      await cit.fill('#purpose', '父亲去世，申请殡葬补贴');
      await audited(cit, 'question page 2, answered');
      await submit(cit, 'main form[method=post]');
      // the upload: not a document first, then a PDF
      await cit.setInputFiles('#m1', { name: 'id.pdf', mimeType: 'application/pdf', buffer: Buffer.from('not a pdf') });
      await submit(cit, 'main form[method=post]');
      assert.equal(await cit.locator('.error-summary').count(), 1, 'a non-document is refused');
      await cit.setInputFiles('#m1', { name: 'id.pdf', mimeType: 'application/pdf', buffer: PDF });
      await submit(cit, 'main form[method=post]');
      assert.equal(new URL(cit.url()).pathname, `/my/cases/${ref}/check`);
      assert.ok((await cit.content()).includes('id.pdf'));
      await audited(cit, 'check your answers');
      await submit(cit, `form[action="/my/cases/${ref}/submit"]`);
      assert.ok((await cit.content()).includes(ref), 'the confirmation names the reference');
      await audited(cit, 'confirmation');

      // the department accepts and asks for more material
      const st = await sctx.newPage();
      st.setDefaultTimeout(15000);
      await signIn(st, 'staff');
      await setPrefs(st, { elder });
      await st.goto('/office?status=submitted');
      await audited(st, 'queue');
      await st.goto(`/office/cases/${ref}`);
      await audited(st, 'case in the back office');
      await submit(st, `form[action="/office/cases/${ref}/action"]:has(input[value=accept])`);
      await st.fill('#reason', '请补充户口簿首页');
      await submit(st, `form[action="/office/cases/${ref}/action"]:has(#reason)`, 'request_supplement');

      await cit.goto(`/my/cases/${ref}`);
      await audited(cit, 'case waiting for material');
      await cit.fill('#note', '已补充户口簿首页');
      await cit.setInputFiles('#files', { name: 'hukou.pdf', mimeType: 'application/pdf', buffer: PDF });
      await submit(cit, `form[action="/my/cases/${ref}/supplement"]`);

      await st.goto(`/office/cases/${ref}`);
      await submit(st, `form[action="/office/cases/${ref}/action"]:has(input[value=approve])`);
      assert.ok((await st.content()).includes('CERT-'), 'a certificate is issued');

      // the applicant sees the decision, rates badly, and later sees the reply
      await cit.goto(`/my/cases/${ref}`);
      assert.ok((await cit.content()).includes('CERT-'));
      // the certificate verifies, for the holder and for anyone with the link
      await Promise.all([cit.waitForNavigation(), cit.locator('a[href^="/certificates/CERT-"]').first().click()]);
      await audited(cit, 'certificate');
      const certUrl = new URL(cit.url()).pathname;
      const anon = await (await newContext(browser, opts)).newPage();
      const res = await anon.goto(certUrl);
      assert.equal(res.status(), 200);
      await audited(anon, 'certificate as a visitor');
      await anon.context().close();
      await cit.goto(`/my/cases/${ref}`);
      await cit.check('#level-2');
      await cit.fill('#comment', '等待时间太长');
      await submit(cit, `form[action="/my/cases/${ref}/rating"]`);
      await st.goto('/office/rectifications');
      await audited(st, 'rectification tasks');
      await Promise.all([st.waitForNavigation(), st.locator('a', { hasText: ref }).first().click()]);
      await audited(st, 'a rectification task');
      for (const text of ['已核实', '已整改', '非常抱歉，我们已优化流程', '整改到位']) {
        await st.fill('#text', text);
        await submit(st, 'form[method=post]:has(#text)');
      }
      await cit.goto(`/my/cases/${ref}`);
      assert.ok((await cit.content()).includes('非常抱歉，我们已优化流程'), 'the reply reaches the applicant');
      await audited(cit, 'case with the reply');
      await cit.goto('/my/cases');
      await audited(cit, 'my cases');
    } finally {
      await cctx.close();
      await sctx.close();
      await actx.close();
    }
  });
}
