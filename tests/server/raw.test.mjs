// Plain HTTP against jetlm serve: the malformed-request set, errors, keys,
// a full queue, clients that abort or crawl (slowloris), tokenize/detokenize.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, postJson, postSse, metric, sleep, fixture } from './lib.mjs';

let srv;
before(async () => { srv = await startServer({ args: ['--parallel', '2', '-c', '256'] }); });
after(async () => { assert.equal(await srv.stop(), 0); });

const chatUrl = () => srv.url + '/v1/chat/completions';
const msgs = [{ role: 'user', content: 'Hi' }];

function assertOpenAiError(r, status) {
  assert.equal(r.status, status, r.text);
  assert.equal(typeof r.json.error.message, 'string');
  assert.equal(typeof r.json.error.type, 'string');
  assert.ok('code' in r.json.error);
}

test('invalid JSON, truncated bodies, non-objects and wrong types are 400 with an OpenAI error body', async () => {
  for (const body of ['{bad', '{"messages": [', '', '[]', '"text"', '42', 'null', '{"messages": "hi"}',
    '{"messages": [1, 2]}', '{"messages": [{"content": "no role"}]}', '{"prompt": 5}',
    JSON.stringify({ messages: msgs, max_tokens: 'ten' }), JSON.stringify({ messages: msgs, temperature: -1 }),
    JSON.stringify({ messages: msgs, max_tokens: -5 }), JSON.stringify({ messages: msgs, stop: 3 }),
    JSON.stringify({ messages: msgs, stream: 'yes' }), '['.repeat(100000), '{"a":'.repeat(5000)]) {
    const url = body.includes('prompt') ? srv.url + '/v1/completions' : chatUrl();
    assertOpenAiError(await postJson(url, body), 400);
  }
  assertOpenAiError(await postJson(chatUrl(), {}), 400);  // messages missing
});

test('unknown fields are ignored; huge max_tokens is bounded by the context', async () => {
  const r = await postJson(chatUrl(), { messages: msgs, max_tokens: 1e12, temperature: 0, frobnicate: { x: [1] } });
  assert.equal(r.status, 200, r.text);
  assert.ok(r.json.usage.prompt_tokens + r.json.usage.completion_tokens <= 256);
});

test('unknown paths are 404 for GET and POST', async () => {
  assertOpenAiError(await postJson(srv.url + '/v1/nothing', {}), 404);
  const r = await fetch(srv.url + '/nothing/here');
  assert.equal(r.status, 404);
});

test('a prompt longer than the context is 400 saying so, streamed or not', async () => {
  const long = 'Once upon a time there was a little cat. '.repeat(100);
  for (const stream of [false, true]) {
    const r = await postJson(chatUrl(), { messages: [{ role: 'user', content: long }], stream });
    assertOpenAiError(r, 400);
    assert.match(r.json.error.message, /context|too long|exceed/);
  }
  const c = await postJson(srv.url + '/v1/completions', { prompt: long });
  assertOpenAiError(c, 400);
});

test('tokenize / detokenize round-trip ASCII; a lone byte detokenizes to U+FFFD, not an error', async () => {
  const text = 'Hello world, a cat sat.';
  const t = await postJson(srv.url + '/tokenize', { content: text });
  assert.equal(t.status, 200);
  assert.ok(t.json.tokens.length > 0 && t.json.tokens.every(Number.isInteger));
  const d = await postJson(srv.url + '/detokenize', { tokens: t.json.tokens });
  assert.equal(d.json.content.trim(), text);
  // A character outside the vocabulary becomes byte tokens; one alone is half a character.
  const e = await postJson(srv.url + '/tokenize', { content: '\u4e16', with_pieces: true });
  const byteTok = e.json.tokens.find((p) => p.piece === '\ufffd');
  assert.ok(byteTok, JSON.stringify(e.json));
  const one = await postJson(srv.url + '/detokenize', { tokens: [byteTok.id] });
  assert.equal(one.status, 200);
  assert.ok(one.json.content.includes('\ufffd'), JSON.stringify(one.json));
});

test('streams and plain answers agree at temperature 1 with a seed (long runs, byte tokens included)', async () => {
  for (const seed of [1, 2, 3]) {
    const req = { messages: msgs, temperature: 1.5, top_k: 0, top_p: 1, min_p: 0, seed, max_tokens: 120 };
    const plain = await postJson(chatUrl(), req);
    assert.equal(plain.status, 200);
    const s = await postSse(chatUrl(), req);
    assert.ok(s.done);
    const text = s.events.map((e) => e.choices[0]?.delta?.content || '').join('');
    assert.equal(text, plain.json.choices[0].message.content);
    assert.ok(!text.includes('\u0000'));
  }
});

test('CORS preflight and headers are absent without --cors', async () => {
  const r = await fetch(chatUrl(), { method: 'OPTIONS' });
  assert.ok(r.status === 204 || r.status === 200);
  assert.equal(r.headers.get('access-control-allow-origin'), null);
});

test('clients that abort (streamed mid-stream, or not) cancel their requests', async () => {
  // One slot and four long answers ahead: the aborted requests are still
  // waiting when their clients go, so each must end "cancelled" (not served).
  const one = await startServer({ args: ['--parallel', '1', '-c', '2048'] });
  try {
    const url = one.url + '/v1/chat/completions';
    const long = { messages: msgs, max_tokens: 1900, ignore_eos: true, temperature: 0 };
    const blockers = Array.from({ length: 4 }, () => postJson(url, long));
    for (let i = 0; i < 100; i++) {
      const busy = (await metric(one.url, 'jetlm_requests_running')) + (await metric(one.url, 'jetlm_requests_queued'));
      if (busy >= 3) break;
      await sleep(10);
    }
    const runs = [];
    for (let i = 0; i < 6; i++) {
      const ctrl = new AbortController();
      const stream = i % 2 === 0;
      runs.push((async () => {
        try {
          const r = await fetch(url, { method: 'POST', signal: ctrl.signal, body: JSON.stringify({ ...long, stream }) });
          if (stream) {
            await r.body.getReader().read();  // the first chunk, then away
            ctrl.abort();
          }
        } catch { /* aborted */ }
      })());
      if (!stream) setTimeout(() => ctrl.abort(), 30);
    }
    await Promise.all(runs);
    for (const b of await Promise.all(blockers)) {
      assert.equal(b.status, 200);
      assert.equal(b.json.usage.completion_tokens, 1900);
    }
    // A non-streamed request aborted before the server read it was never submitted: count the accepted ones.
    const aborted = (await metric(one.url, 'jetlm_requests_total')) - 4;
    assert.ok(aborted >= 3, 'the three streams were accepted');
    let cancelled = 0;
    for (let i = 0; i < 40; i++) {  // the final events follow within a step of the engine
      cancelled = await metric(one.url, 'jetlm_requests_cancelled_total');
      if (cancelled === aborted) break;
      await sleep(50);
    }
    assert.equal(cancelled, aborted, `${cancelled} of ${aborted} aborted requests were cancelled`);
    // One aborted request may have started before a blocker arrived; none ran to its end.
    assert.ok((await metric(one.url, 'jetlm_tokens_generated_total')) < 5 * 1900, 'aborted requests stopped early');
    assert.equal(await metric(one.url, 'jetlm_requests_running'), 0);
    assert.equal(await metric(one.url, 'jetlm_requests_queued'), 0);
    assert.equal((await postJson(url, { messages: msgs, max_tokens: 5 })).status, 200);
  } finally {
    assert.equal(await one.stop(), 0);
  }
});

test('two slowloris clients (a byte every 200 ms) do not stop /health or a completion', async () => {
  const head = 'POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n';
  const socks = [0, 1].map(() => net.connect(srv.port, '127.0.0.1'));
  let stop = false;
  const drip = socks.map(async (s) => {
    s.on('error', () => {});
    for (let i = 0; !stop && i < head.length; i++) { s.write(head[i]); await sleep(200); }
  });
  await sleep(300);
  for (let i = 0; i < 5; i++) {
    const t0 = Date.now();
    const h = await fetch(srv.url + '/health');
    assert.equal(h.status, 200);
    assert.ok(Date.now() - t0 < 1000);
    const r = await postJson(chatUrl(), { messages: msgs, max_tokens: 5 });
    assert.equal(r.status, 200);
    await sleep(200);
  }
  stop = true;
  await Promise.all(drip);
  for (const s of socks) s.destroy();
});

test('--api-key: 401 without or with a wrong key on /v1 and /api, /health open, the right key works; --cors', async () => {
  const k = await startServer({ model: fixture('tiny-llama-q4_0.gguf'),
    args: ['--api-key', 'sesame', '-c', '128', '--cors', 'https://example.com'] });
  try {
    const pre = await fetch(k.url + '/v1/chat/completions', { method: 'OPTIONS',
      headers: { Origin: 'https://example.com', 'Access-Control-Request-Method': 'POST' } });
    assert.ok(pre.status === 204 || pre.status === 200);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://example.com');
    assert.match(pre.headers.get('access-control-allow-headers'), /Authorization/);
    assert.equal((await fetch(k.url + '/health')).headers.get('access-control-allow-origin'), 'https://example.com');
    assert.equal((await fetch(k.url + '/health')).status, 200);
    for (const p of ['/v1/models', '/api/tags', '/metrics']) {
      assert.equal((await fetch(k.url + p)).status, 401, p);
      assert.equal((await fetch(k.url + p, { headers: { Authorization: 'Bearer wrong' } })).status, 401, p);
    }
    const bad = await postJson(k.url + '/v1/chat/completions', { messages: msgs }, { Authorization: 'Bearer nope' });
    assertOpenAiError(bad, 401);
    const good = await postJson(k.url + '/v1/chat/completions', { messages: msgs, max_tokens: 3 }, { Authorization: 'Bearer sesame' });
    assert.equal(good.status, 200);
  } finally {
    assert.equal(await k.stop(), 0);
  }
});

test('64 simultaneous requests with --queue 2: each answered 200 or 503 with Retry-After, none hanging', async () => {
  const q = await startServer({ args: ['--parallel', '1', '--queue', '2', '-c', '512'] });
  try {
    const req = { messages: msgs, max_tokens: 300, ignore_eos: true, temperature: 0 };
    const t0 = Date.now();
    const all = await Promise.all(Array.from({ length: 64 }, (_, i) => (i % 2
      ? postJson(q.url + '/v1/chat/completions', req)
      : postSse(q.url + '/v1/chat/completions', req))));
    assert.ok(Date.now() - t0 < 60000);
    let n200 = 0, n503 = 0;
    for (const r of all) {
      if (r.status === 200) n200++;
      else {
        assert.equal(r.status, 503);
        assert.ok(r.headers.get('retry-after'));
        n503++;
      }
    }
    assert.equal(n200 + n503, 64);
    assert.ok(n200 >= 1 && n503 >= 1, `${n200} answered, ${n503} refused`);
    assert.equal((await fetch(q.url + '/health')).status, 200);
  } finally {
    assert.equal(await q.stop(), 0);
  }
});

test('memory stays flat over 1000 sequential requests', async () => {
  // A small pool, so that the warm-up runs every connection thread (each one's stack and malloc arena
  // come into memory the first time it serves a request; that is not growth per request).
  const m = await startServer({ args: ['-c', '128', '--queue', '2', '--http-threads', '8'] });
  try {
    const fs = await import('node:fs');
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${m.proc.pid}/status`, 'utf8'))[1]);
    const url = m.url + '/v1/chat/completions';
    const one = (i) => postJson(url, { messages: [{ role: 'user', content: `Hi ${i % 7}` }], max_tokens: 2, stream: i % 2 === 0 });
    for (let round = 0; round < 5; round++) await Promise.all(Array.from({ length: 8 }, (_, i) => one(i)));
    for (let i = 0; i < 100; i++) assert.equal((await one(i)).status, 200);
    const before = rss();
    for (let i = 100; i < 1000; i++) assert.equal((await one(i)).status, 200);
    const after = rss();
    assert.ok(after <= before * 1.02 + 512, `RSS ${before} kB -> ${after} kB`);
  } finally {
    assert.equal(await m.stop(), 0);
  }
});
