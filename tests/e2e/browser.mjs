// browser.mjs - one headless Chromium for every browser test of a run:
// scripts/test.sh starts it once, reads the endpoint it prints (one line,
// ws://127.0.0.1:...), hands it to each test file as DGOV_BROWSER_WS, and
// stops it with SIGTERM at the end. Each test still gets fresh contexts of its
// own (own cookies and storage), so sharing the process shares no state.
import { launchOptions } from './lib.mjs';
import { chromium } from 'playwright-core';

const server = await chromium.launchServer({ ...launchOptions(), host: '127.0.0.1' });
process.stdout.write(server.wsEndpoint() + '\n');
const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
