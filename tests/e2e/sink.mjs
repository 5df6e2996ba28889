// sink.mjs - the browser tests' notice gateway: what an SMS gateway or a
// region's message bus is to a real node. `node sink.mjs FILE` listens on a
// free loopback port, prints its URL, and for every POST whose
// X-Dgov-Signature checks out against DGOV_WEBHOOK_SECRET (docs/notices.md)
// appends the body, one JSON document a line, to FILE and answers 204; a
// request with a wrong signature gets 401 and is not kept, so a test that
// finds its text message knows the node signed it.
import { createServer } from 'node:http';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createHmac, timingSafeEqual } from 'node:crypto';

const file = process.argv[2];
const secret = process.env.DGOV_WEBHOOK_SECRET || '';
if (!file || secret.length < 16) {
  console.error('usage: DGOV_WEBHOOK_SECRET=S node sink.mjs FILE');
  process.exit(2);
}
writeFileSync(file, '');

function signed(body, header) {
  const want = Buffer.from('sha256=' + createHmac('sha256', secret).update(body).digest('hex'));
  const got = Buffer.from(String(header || ''));
  return got.length === want.length && timingSafeEqual(got, want);
}

const server = createServer((req, res) => {
  const parts = [];
  req.on('data', (c) => parts.push(c));
  req.on('end', () => {
    const body = Buffer.concat(parts);
    if (req.method !== 'POST') {
      res.writeHead(405).end();
    } else if (!signed(body, req.headers['x-dgov-signature'])) {
      res.writeHead(401).end();
    } else {
      appendFileSync(file, body.toString('utf8').replace(/\n/g, ' ') + '\n');
      res.writeHead(204).end();
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log(`http://127.0.0.1:${server.address().port}/notices`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
