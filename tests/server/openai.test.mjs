// The official OpenAI client against jetlm serve (stories260K, no chat
// template: the default one): listing, chat and completions, streamed and
// not, usage, stop strings, logprobs, determinism alone and among 8 streams.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer, postJson, metric } from './lib.mjs';

let srv, client, modelId;
before(async () => {
  srv = await startServer({ args: ['--parallel', '4', '-c', '512'] });
  client = new OpenAI({ baseURL: srv.url + '/v1', apiKey: 'ignored-without---api-key', maxRetries: 0 });
  modelId = (await client.models.list()).data[0].id;
});
after(async () => { assert.equal(await srv.stop(), 0); });

const chat = (extra = {}) => ({
  model: modelId,
  messages: [{ role: 'user', content: 'Tell me a story about a cat.' }],
  temperature: 0,
  max_tokens: 40,
  ...extra,
});

async function streamText(req) {
  const stream = await client.chat.completions.create({ ...req, stream: true, stream_options: { include_usage: true } });
  let text = '', finish = null, usage = null, nChunks = 0;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    nChunks++;
    if (chunk.usage) usage = chunk.usage;
    if (chunk.choices.length === 0) { assert.ok(chunk.usage, 'a chunk without choices carries usage'); continue; }
    text += chunk.choices[0].delta.content || '';
    if (chunk.choices[0].finish_reason) finish = chunk.choices[0].finish_reason;
  }
  return { text, finish, usage, nChunks };
}

test('models: the listed id is the model', async () => {
  assert.equal(modelId, 'stories260K');
});

test('chat: non-streamed answer has the OpenAI shape', async () => {
  const r = await client.chat.completions.create(chat());
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(r.choices[0].message.content.length > 0);
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  if (r.choices[0].finish_reason === 'length') assert.equal(r.usage.completion_tokens, 40);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
});

test('chat: streamed deltas equal the non-streamed text, with the same usage', async () => {
  const plain = await client.chat.completions.create(chat({ max_tokens: 60 }));
  const s = await streamText(chat({ max_tokens: 60 }));
  assert.equal(s.text, plain.choices[0].message.content);
  assert.equal(s.finish, plain.choices[0].finish_reason);
  assert.ok(s.nChunks > 3, 'one chunk per token');
  assert.equal(s.usage.prompt_tokens, plain.usage.prompt_tokens);
  assert.equal(s.usage.completion_tokens, plain.usage.completion_tokens);
});

test('chat: temperature 0 alone equals temperature 0 among 8 concurrent streams', async () => {
  const alone = (await client.chat.completions.create(chat({ max_tokens: 50 }))).choices[0].message.content;
  const others = ['Once upon a time', 'The dog ran', 'Lily and Tom', 'A big red ball', 'The sun was', 'Mom said', 'One day'];
  const runs = await Promise.all([
    streamText(chat({ max_tokens: 50 })),
    ...others.map((p) => streamText(chat({ max_tokens: 50, messages: [{ role: 'user', content: p }] }))),
  ]);
  assert.equal(runs.length, 8);
  assert.equal(runs[0].text, alone);
  for (const r of runs) assert.ok(r.text.length > 0 && r.finish);
});

test('chat: a seed makes sampling at temperature 1 repeatable', async () => {
  const req = chat({ temperature: 1, seed: 1234, max_tokens: 30 });
  const a = (await client.chat.completions.create(req)).choices[0].message.content;
  const b = (await client.chat.completions.create(req)).choices[0].message.content;
  assert.equal(a, b);
});

test('chat: stop strings end the text exactly before them, streamed and not', async () => {
  const full = (await client.chat.completions.create(chat({ max_tokens: 60 }))).choices[0].message.content;
  assert.ok(full.length > 12, full);
  const stop = full.slice(8, 11);  // occurs first at or before index 8
  const expected = full.slice(0, full.indexOf(stop));
  const plain = await client.chat.completions.create(chat({ max_tokens: 60, stop: [stop, 'never-in-the-text'] }));
  assert.equal(plain.choices[0].message.content, expected);
  assert.equal(plain.choices[0].finish_reason, 'stop');
  const s = await streamText(chat({ max_tokens: 60, stop }));
  assert.equal(s.text, expected);
  assert.equal(s.finish, 'stop');
});

test('completions: text_completion, streamed equals non-streamed', async () => {
  const req = { model: modelId, prompt: 'Once upon a time', max_tokens: 30, temperature: 0 };
  const r = await client.completions.create(req);
  assert.equal(r.object, 'text_completion');
  assert.ok(r.choices[0].text.length > 0);
  let text = '';
  for await (const c of await client.completions.create({ ...req, stream: true })) {
    assert.equal(c.object, 'text_completion');
    text += c.choices[0]?.text || '';
  }
  assert.equal(text, r.choices[0].text);
});

test('chat: logprobs has one entry per generated token, streamed too', async () => {
  const req = chat({ max_tokens: 10, logprobs: true, top_logprobs: 3 });
  const r = await client.chat.completions.create(req);
  const content = r.choices[0].logprobs?.content;
  assert.equal(content.length, r.usage.completion_tokens);
  for (const e of content) {
    assert.equal(typeof e.token, 'string');
    assert.ok(e.logprob <= 0);
    assert.equal(e.top_logprobs.length, 3);
    assert.ok(e.top_logprobs[0].logprob >= e.top_logprobs[2].logprob);
  }
  let n = 0;
  for await (const c of await client.chat.completions.create({ ...req, stream: true }))
    n += c.choices[0]?.logprobs?.content?.length || 0;
  assert.equal(n, r.usage.completion_tokens);
  const t = await client.completions.create({ model: modelId, prompt: 'Once', max_tokens: 4, temperature: 0, logprobs: 2 });
  assert.equal(t.choices[0].logprobs.tokens.length, t.usage.completion_tokens);
  assert.equal(t.choices[0].logprobs.tokens.join(''), t.choices[0].text);
});

test('metrics: generated and prompt token counters have grown when an answer ends', async () => {
  const before = await metric(srv.url, 'jetlm_tokens_generated_total');
  const r = await client.chat.completions.create(chat({ max_tokens: 8 }));
  const after = await metric(srv.url, 'jetlm_tokens_generated_total');
  assert.equal(after - before, r.usage.completion_tokens);
  assert.ok((await metric(srv.url, 'jetlm_prompt_tokens_total')) > 0);
  const page = await (await fetch(srv.url + '/metrics')).text();
  for (const name of ['jetlm_time_to_first_token_seconds_bucket', 'jetlm_inter_token_latency_seconds_count',
    'jetlm_requests_queued', 'jetlm_requests_running', 'jetlm_kv_cache_usage_ratio'])
    assert.ok(page.includes(name), name);
});

test('usage reports prompt tokens reused from the cache', async () => {
  const r = await postJson(srv.url + '/v1/chat/completions', chat({ max_tokens: 4 }));
  assert.equal(r.status, 200);
  assert.equal(typeof r.json.usage.prompt_tokens_details.cached_tokens, 'number');
});
