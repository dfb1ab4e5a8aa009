// The built-in chat page at / in headless Chromium (Debian's /usr/bin/chromium
// through playwright-core; no browser is downloaded): it lists the model,
// sends a message and shows the streamed answer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { chromium } from 'playwright-core';
import { startServer } from './lib.mjs';

const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const args = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

let srv, browser;
before(async () => {
  srv = await startServer({ args: ['-c', '256'] });
  browser = await chromium.launch({ executablePath, args, headless: true });
});
after(async () => {
  if (browser) await browser.close();
  assert.equal(await srv.stop(), 0);
});

test('chromium is installed', () => { assert.ok(fs.existsSync(executablePath), executablePath); });

test('the chat page streams an answer', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(srv.url + '/');
  await page.waitForFunction(() => document.getElementById('model').textContent === 'stories260K', null, { timeout: 10000 });
  await page.fill('#max_tokens', '30');
  await page.fill('#temperature', '0');
  await page.fill('#prompt', 'Once upon a time');
  await page.click('#send');
  await page.waitForSelector('.msg.user');
  await page.waitForFunction(() => document.body.dataset.state === 'idle' &&
    document.querySelector('.msg.assistant') && document.querySelector('.msg.assistant').textContent.length > 0,
  null, { timeout: 15000 });
  const answer = await page.textContent('.msg.assistant');
  // The page shows what the API answers for the same request.
  const r = await fetch(srv.url + '/v1/chat/completions', {
    method: 'POST', body: JSON.stringify({ messages: [{ role: 'user', content: 'Once upon a time' }], max_tokens: 30, temperature: 0 }),
  });
  assert.equal(answer, (await r.json()).choices[0].message.content);
  assert.deepEqual(errors, []);
  await page.close();
});
