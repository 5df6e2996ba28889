// search-data.test.mjs - three more journeys a new resident walks, with
// JavaScript off, in Chinese and English, normal mode at 1280 px and elder
// mode at 320 px, each page audited with axe: find a service by an everyday
// word and follow "did you mean"; apply to use a conditional dataset, have the
// publishing department approve it, and read the data with the app's key;
// export a large table in the background, check on it, and download it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newContext, setPrefs, signIn, audited, click, whereItFailed } from './lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const mainText = (page) => page.locator('main').innerText();

// Every shape a journey is walked in: the language, elder mode, the viewport.
const SHAPES = [];
for (const lang of ['zh', 'en']) {
  for (const elder of [false, true]) {
    SHAPES.push({
      lang, elder,
      viewport: elder ? { width: 320, height: 800 } : { width: 1280, height: 900 },
      name: `${lang}, ${elder ? 'elder, 320 px' : 'normal, 1280 px'}, no JavaScript`,
    });
  }
}

// A browser context without JavaScript in the shape, and one with it for axe.
async function walk(shape, who, fn) {
  const ctx = await newContext(browser, { javaScriptEnabled: false, viewport: shape.viewport });
  const actx = await newContext(browser, { viewport: shape.viewport });
  let page;
  try {
    const auditor = await actx.newPage();
    page = await ctx.newPage();
    page.setDefaultTimeout(15000);
    if (who) await signIn(page, who);
    await setPrefs(page, { lang: shape.lang, elder: shape.elder });
    if (shape.lang === 'en') await setPrefs(auditor, { lang: 'en' });
    await fn(page, auditor, ctx);
  } catch (err) {
    throw await whereItFailed(err, page);
  } finally {
    await ctx.close();
    await actx.close();
  }
}

// Everyday words the catalogue's own words do not contain, and a service
// each must lead to (the synonym list kept as data).
const EVERYDAY = {
  zh: { words: '生小孩', finds: '生育登记', suggests: /您是不是要找/ },
  en: { words: 'business license', finds: 'Company registration', suggests: /Did you mean/ },
};

for (const shape of SHAPES) {
  test(`find a service by an everyday word and follow "did you mean" (${shape.name})`, async () => {
    await walk(shape, null, async (page, auditor) => {
      const want = EVERYDAY[shape.lang];
      await page.goto('/services');
      await page.fill('main input[name=q]', want.words);
      await click(page, 'main form[action="/services"] button[type=submit]');
      assert.equal(new URL(page.url()).searchParams.get('q'), want.words);
      const text = await mainText(page);
      assert.match(text, want.suggests, 'the everyday word is explained');
      assert.ok(text.includes(want.finds), `"${want.words}" leads to ${want.finds}`);
      assert.equal(await page.getAttribute('html', 'lang'), shape.lang === 'en' ? 'en' : 'zh-CN');
      await audited(auditor, page, `everyday-word search (${shape.name})`);
      // a suggestion is a plain link to its own search, which finds something
      const suggestion = page.locator('main a[href^="/services?q="]').first();
      const label = (await suggestion.innerText()).trim();
      await click(page, 'main a[href^="/services?q="]');
      assert.equal(new URL(page.url()).searchParams.get('q'), label);
      assert.ok((await page.locator('main a[href^="/services/"]').count()) > 0,
        `the suggestion "${label}" finds a service`);
      // and a result opens its guide
      await click(page, 'main a[href^="/services/"]');
      assert.match(new URL(page.url()).pathname, /^\/services\/[0-9A-Z-]+$/);
      await audited(auditor, page, `guide reached from a suggestion (${shape.name})`);
    });
  });
}

// The demo's conditional dataset, published by 市场监督管理局 (sc_sun reviews).
const CONDITIONAL = 'food-safety-inspections';

async function datastoreSearch(ctx, resource, key) {
  const res = await ctx.request.get(`/api/3/action/datastore_search?resource_id=${resource}&limit=1`,
    { headers: key ? { 'X-CKAN-API-Key': key } : {} });
  return res.status();
}

for (const [i, shape] of SHAPES.entries()) {
  test(`apply to use a conditional dataset, approved, then read with the app's key (${shape.name})`, async () => {
    await walk(shape, 'citizen', async (cit, auditor, ctx) => {
      const en = shape.lang === 'en';
      // the dataset's page says what it takes and leads to the application
      await cit.goto(`/data/datasets/${CONDITIONAL}`);
      await audited(auditor, cit, `conditional dataset (${shape.name})`);
      const resource = (await cit.locator('main a[href*="/resources/"][href$="/api"]').first()
        .getAttribute('href')).split('/')[5];
      // first an app, which gives a key shown once
      await click(cit, 'main a[href="/data/apps"]');
      const appName = `journey app ${shape.lang}${shape.elder ? ' elder' : ''} ${i} ${Date.now()}`;
      await cit.fill('#name', appName);
      await cit.fill('#purpose', en ? 'Studying food safety by district' : '按区县研究食品安全');
      await click(cit, 'form[action="/data/apps"] button[type=submit]');
      const key = (await cit.locator('#new-key').innerText()).trim();
      assert.match(key, /^dgk_[0-9a-f]+$/, 'the new key is shown');
      await audited(auditor, cit, `new app with its key (${shape.name})`);
      assert.equal(await datastoreSearch(ctx, resource, key), 403, 'no data before approval');
      // the application, with one error first: no days given
      await cit.goto(`/data/datasets/${CONDITIONAL}`);
      await click(cit, `main a[href="/data/datasets/${CONDITIONAL}/apply"]`);
      await cit.fill('#applicant', en ? 'Zhang San' : '张三');
      await cit.fill('#purpose', en ? 'A study of inspections' : '抽检结果研究');
      await cit.fill('#use', en ? 'Statistics by district' : '按区县统计');
      const option = cit.locator('#app option', { hasText: appName });
      await cit.selectOption('#app', await option.getAttribute('value'));
      await click(cit, `form[action="/data/datasets/${CONDITIONAL}/apply"] button[type=submit]`);
      assert.equal(await cit.locator('.error-summary').count(), 1, 'the missing period is said');
      assert.equal(await cit.inputValue('#purpose'), en ? 'A study of inspections' : '抽检结果研究');
      await audited(auditor, cit, `application with an error (${shape.name})`);
      await cit.fill('#days', '30');
      await click(cit, `form[action="/data/datasets/${CONDITIONAL}/apply"] button[type=submit]`);
      assert.equal(new URL(cit.url()).pathname, '/data/applications');
      assert.match(await mainText(cit), en ? /submitted/i : /申请已提交/);
      await audited(auditor, cit, `application sent (${shape.name})`);
      // the publishing department approves it
      const sctx = await newContext(browser, { javaScriptEnabled: false, viewport: shape.viewport });
      try {
        const staff = await sctx.newPage();
        await signIn(staff, 'sc_sun');
        await staff.goto('/office/data-applications');
        const mine = staff.locator('main section', { hasText: appName }).locator('form[action$="/decide"]');
        assert.equal(await mine.count(), 1, 'the application is listed for the department');
        await mine.locator('input[value=approve]').check();
        await Promise.all([staff.waitForNavigation(), mine.locator('button[type=submit]').click()]);
        assert.equal(new URL(staff.url()).pathname, '/office/data-applications');
      } finally {
        await sctx.close();
      }
      // the resident sees it approved, and the key now reads the data
      await cit.goto('/data/applications');
      const row = cit.locator('tr', { hasText: appName });
      assert.match(await row.innerText(), en ? /approved/i : /已批准/);
      await audited(auditor, cit, `application approved (${shape.name})`);
      assert.equal(await datastoreSearch(ctx, resource, key), 200, 'the key reads the data once approved');
      assert.equal(await datastoreSearch(ctx, resource, null), 403, 'still closed without the key');
    });
  });
}

// The demo's table of 20,000 rows (scripts/test.sh: demo --rows 20000).
const LARGE = 'market-entities';

for (const shape of SHAPES) {
  test(`export a large table in the background, check on it, download it (${shape.name})`, async () => {
    await walk(shape, 'citizen', async (cit, auditor, ctx) => {
      const en = shape.lang === 'en';
      await cit.goto(`/data/datasets/${LARGE}`);
      const form = cit.locator(`main form[action^="/data/datasets/${LARGE}/resources/"][action$="/export"]`);
      assert.equal(await form.count(), 1, 'a large table offers the background export');
      // the size is said before anything starts
      assert.match(await cit.locator('main').innerText(), en ? /about [\d.]+ ?[KMG]?B/i : /约 ?[\d.]+ ?[KMG]?B/);
      await form.locator('select[name=format]').selectOption('csv');
      await Promise.all([cit.waitForNavigation(), form.locator('button[type=submit]').click()]);
      const where = new URL(cit.url()).pathname;
      assert.match(where, /^\/data\/exports\/\d+$/);
      await audited(auditor, cit, `export started (${shape.name})`);
      // no automatic refresh: the person checks again when they choose
      assert.equal(await cit.locator('meta[http-equiv=refresh]').count(), 0);
      let file = cit.locator(`main a[href="${where}/file"]`);
      for (let n = 0; (await file.count()) === 0; n++) {
        assert.ok(n < 120, 'the export finishes');
        await new Promise((ok) => setTimeout(ok, 500));
        await click(cit, `main a[href="${where}"]`);
        file = cit.locator(`main a[href="${where}/file"]`);
      }
      assert.match(await cit.locator('main dl.summary').innerText(), /20,?000/, 'all 20,000 rows');
      await audited(auditor, cit, `export ready (${shape.name})`);
      // the file: a BOM for Excel, a header line, then every row
      const res = await ctx.request.get(`${where}/file`);
      assert.equal(res.status(), 200);
      assert.match(res.headers()['content-disposition'], new RegExp(`filename="${LARGE}\\.csv"`));
      const body = await res.body();
      assert.deepEqual([...body.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
      const lines = body.toString('utf8').trimEnd().split('\n');
      assert.equal(lines.length, 20001, 'a header and 20,000 rows');
      // someone else cannot download it
      const other = await newContext(browser, { javaScriptEnabled: false });
      try {
        const lisi = await other.newPage();
        await signIn(lisi, 'lisi');
        const theirs = await other.request.get(`${where}/file`, { maxRedirects: 0 });
        assert.ok([403, 404].includes(theirs.status()), `another resident gets ${theirs.status()}`);
      } finally {
        await other.close();
      }
    });
  });
}
