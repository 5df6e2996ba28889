// bulk.mjs - the bulk read of bench/exchange/run.sh: a department system
// reading a whole registry through the exchange, page after page, as one
// client on one kept-alive connection (what a real system does), so the
// figure is the node's and not the cost of starting a client each page.
//
//   node bulk.mjs URL CLIENT KEY PURPOSE RUN
//
// URL is the first page's (…/x/v1/household?fields=…&limit=500). Prints
// "ROWS PAGES SECONDS"; exits 1 when a page fails.
const [url, client, key, purpose, run] = process.argv.slice(2);
let after = '';
let rows = 0;
let pages = 0;
const t0 = process.hrtime.bigint();
for (;;) {
  pages++;
  const res = await fetch(after ? `${url}&after=${encodeURIComponent(after)}` : url, {
    headers: {
      'X-Dgov-Client': client, 'X-Dgov-Key': key, 'X-Dgov-Purpose': purpose,
      'X-Dgov-Request-Id': `${run}-${pages}`, 'X-Dgov-Run': run,
    },
  });
  const body = await res.text();
  if (res.status !== 200) {
    process.stderr.write(`bench: a bulk page failed: ${res.status} ${body.slice(0, 300)}\n`);
    process.exit(1);
  }
  const answer = JSON.parse(body).answer;
  rows += answer.count;
  if (!answer.next) break;
  after = answer.next;
}
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(`${rows} ${pages} ${secs.toFixed(3)}`);
