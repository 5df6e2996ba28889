// signup.test.mjs - a new resident makes their own account and later resets
// its password, as they would: from the sign-in page, with JavaScript off, in
// normal mode at 1280 px and in elder mode at 320 px, every page audited with
// axe. The code comes the way it does in production: the node texts it
// through its notice gateway (scripts/test.sh runs tests/e2e/sink.mjs as the
// gateway and names its file in DGOV_TEXTS), signed with the webhook's secret.
// The person is put into the population registry first by the administrator,
// through the exchange's record API with a token made on /account/tokens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { launch, newContext, signIn, BASE, PASSWORD, audited, click } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const TEXTS = process.env.DGOV_TEXTS;
const NEW_PASSWORD = 'Reset-2026!';

// An ID number of the demo area (990100) with its GB 11643 check character.
function idNumber(birth, seq) {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const s = `990100${birth}${seq}`;
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(s[i]) * w[i];
  return s + '10X98765432'[sum % 11];
}

// The text messages the gateway received for phone, oldest first.
function textsTo(phone) {
  if (!existsSync(TEXTS)) return [];
  return readFileSync(TEXTS, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l))
    .filter((m) => m.kind === 'text' && m.to === phone);
}

// Wait until the gateway has received n texts for phone; the newest one's code.
async function codeSent(phone, n) {
  for (let i = 0; i < 300; i++) {
    const got = textsTo(phone);
    if (got.length >= n) {
      const m = /(\d{6})/.exec(got[n - 1].text);
      assert.ok(m, `a code in "${got[n - 1].text}"`);
      return m[1];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no text ${n} to ${phone} reached the gateway`);
}

// A write token of the administrator, made on /account/tokens as a person would.
async function adminToken(ctx) {
  const page = await ctx.newPage();
  await signIn(page, 'admin');
  await page.goto('/account/tokens');
  await page.fill('#name', 'e2e registry');
  await page.check('#scope-write');
  await click(page, 'form[action="/account/tokens"] button[type=submit]');
  const token = (await page.locator('#new-token').innerText()).trim();
  assert.ok(token.length > 20, 'the new token is shown once');
  await page.close();
  return token;
}

async function addPerson(token, id, name) {
  const res = await fetch(`${BASE}/api/exchange/registries/person/records`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id, values: { name, alive: true }, effective: '2026-01-01' }),
  });
  assert.ok(res.status === 200 || res.status === 201, `registry record: ${res.status} ${await res.text()}`);
}

for (const elder of [false, true]) {
  const mode = elder ? 'elder' : 'normal';
  const viewport = elder ? { width: 320, height: 800 } : { width: 1280, height: 900 };

  test(`sign up with a code texted to the phone, then reset the password (${mode}, no JavaScript)`, { skip: !TEXTS && 'DGOV_TEXTS names no gateway file' }, async () => {
    const actx = await newContext(browser, { viewport });
    const ctx = await newContext(browser, { javaScriptEnabled: false, viewport });
    try {
      const auditor = await actx.newPage();
      const uniq = String(Date.now() % 1000000).padStart(6, '0');
      const id = idNumber(elder ? '19770707' : '19660606', uniq.slice(3));
      const phone = `139${uniq}${elder ? '11' : '22'}`;
      const name = elder ? '周长青' : '吴晓明';
      const username = `nr${uniq}${elder ? 'e' : 'n'}`;
      await addPerson(await adminToken(actx), id, name);

      const page = await ctx.newPage();
      page.setDefaultTimeout(15000);
      if (elder) await page.goto('/prefs?elder=1&back=/');
      // from the sign-in page to sign-up
      await page.goto('/login');
      await click(page, 'main a[href^="/signup"]');
      assert.equal(new URL(page.url()).pathname, '/signup');
      await audited(auditor, page, `sign-up, step 1 (${mode})`);
      // nothing filled: every field's error, said on the page and in its title
      await click(page, 'form[action="/signup"] button[type=submit]');
      assert.equal(await page.locator('.error-summary').count(), 1);
      assert.equal(await page.locator('[aria-invalid=true]').count(), 3);
      await audited(auditor, page, `sign-up, step 1 with errors (${mode})`);
      await page.fill('#name', name);
      await page.fill('#id_number', id);
      await page.fill('#phone', phone);
      await click(page, 'form[action="/signup"] button[type=submit]');
      assert.equal(await page.locator('form[action="/signup/verify"]').count(), 1, 'the code page');
      assert.match(await page.locator('main').innerText(), new RegExp(phone.slice(0, 3) + '\\*+' + phone.slice(-4)));
      await audited(auditor, page, `sign-up, the code (${mode})`);
      const code = await codeSent(phone, 1);
      // switching language here shows the same step in English and sends nothing
      await click(page, 'button[name=pref_lang]');
      assert.equal(await page.getAttribute('html', 'lang'), 'en');
      assert.equal(await page.locator('form[action="/signup/verify"]').count(), 1, 'still the code page');
      assert.equal(await page.locator('.error-summary').count(), 0);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(textsTo(phone).length, 1, 'the switch sent no second code');
      // a wrong code first: told so, with the tries left
      const wrong = String((Number(code) + 1) % 1000000).padStart(6, '0');
      await page.fill('#code', wrong);
      await page.fill('#username', username);
      await page.fill('#password', PASSWORD);
      await page.fill('#password_again', PASSWORD);
      await click(page, 'form[action="/signup/verify"] button[type=submit]');
      assert.equal(await page.locator('.error-summary').count(), 1);
      assert.equal(await page.getAttribute('#code', 'aria-invalid'), 'true');
      await audited(auditor, page, `sign-up, a wrong code (${mode})`);
      await page.fill('#code', code);
      await page.fill('#password', PASSWORD);
      await page.fill('#password_again', PASSWORD);
      await click(page, 'form[action="/signup/verify"] button[type=submit]');
      assert.equal(new URL(page.url()).pathname, '/account');
      assert.ok(await page.locator('form[action="/logout"]').count() > 0, 'signed in');
      assert.match(await page.locator('body').innerText(), new RegExp(name), 'the name the registry knows');
      await audited(auditor, page, `signed up (${mode})`);
      await click(page, 'form[action="/logout"] button[type=submit]');

      // later: the password is forgotten
      await page.goto('/login');
      await click(page, 'main a[href^="/reset"]');
      assert.equal(new URL(page.url()).pathname, '/reset');
      await audited(auditor, page, `reset, step 1 (${mode})`);
      await page.fill('#id_number', id);
      await page.fill('#phone', phone);
      await click(page, 'form[action="/reset"] button[type=submit]');
      assert.equal(await page.locator('form[action="/reset/verify"]').count(), 1, 'the reset code page');
      const code2 = await codeSent(phone, 2);
      await page.fill('#code', code2);
      await page.fill('#password', NEW_PASSWORD);
      await page.fill('#password_again', NEW_PASSWORD);
      await click(page, 'form[action="/reset/verify"] button[type=submit]');
      assert.equal(new URL(page.url()).pathname, '/account');
      await audited(auditor, page, `password reset (${mode})`);
      await click(page, 'form[action="/logout"] button[type=submit]');
      // the old password no longer opens the account; the new one does
      await page.goto('/login');
      await page.fill('#username', username);
      await page.fill('#password', PASSWORD);
      await click(page, 'form[action="/login"] button[type=submit]');
      assert.equal(await page.locator('form[action="/logout"]').count(), 0, 'the old password is refused');
      await page.fill('#username', username);
      await page.fill('#password', NEW_PASSWORD);
      await click(page, 'form[action="/login"] button[type=submit]');
      assert.ok(await page.locator('form[action="/logout"]').count() > 0, 'the new password works');
    } finally {
      await ctx.close();
      await actx.close();
    }
  });
}
