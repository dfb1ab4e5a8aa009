// The official ollama client against jetlm serve: NDJSON streams of /api/chat
// and /api/generate, options, durations, tags/show/ps/version.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import { startServer, fixture } from './lib.mjs';

let srv, ollama, modelId;
before(async () => {
  srv = await startServer({ model: fixture('tiny-llama-q4_0.gguf'), args: ['--parallel', '2', '-c', '256'] });
  ollama = new Ollama({ host: srv.url });
  modelId = (await ollama.list()).models[0].name;
});
after(async () => { assert.equal(await srv.stop(), 0); });

test('tags, ps and /v1/models list the same model', async () => {
  const r = await (await fetch(srv.url + '/v1/models')).json();
  assert.equal(modelId.replace(/:latest$/, ''), r.data[0].id);
  const ps = await ollama.ps();
  assert.equal(ps.models[0].name, modelId);
  const tags = await ollama.list();
  assert.equal(tags.models[0].details.format, 'gguf');
});

test('show has details and model_info; version is not empty', async () => {
  const s = await ollama.show({ model: modelId });
  assert.ok(s.details && s.details.family);
  assert.ok(s.model_info && Object.keys(s.model_info).length > 0);
  const v = await ollama.version();
  assert.ok(v.version.length > 0);
});

test('chat streams NDJSON: every part has message.content, the last is done with durations', async () => {
  const parts = [];
  const stream = await ollama.chat({ model: modelId, messages: [{ role: 'user', content: 'hello' }], stream: true,
    options: { temperature: 0, num_predict: 12 } });
  for await (const p of stream) parts.push(p);
  assert.ok(parts.length >= 2);
  for (const p of parts) assert.equal(typeof p.message.content, 'string');
  const last = parts.at(-1);
  assert.equal(last.done, true);
  assert.ok(['stop', 'length'].includes(last.done_reason));
  if (last.done_reason === 'length') assert.equal(last.eval_count, 12);
  for (const k of ['total_duration', 'prompt_eval_count', 'prompt_eval_duration', 'eval_count', 'eval_duration'])
    assert.equal(typeof last[k], 'number', k);
  assert.ok(last.total_duration >= last.eval_duration, 'nanoseconds');
  const text = parts.map((p) => p.message.content).join('');
  const plain = await ollama.chat({ model: modelId, messages: [{ role: 'user', content: 'hello' }], stream: false,
    options: { temperature: 0, num_predict: 12 } });
  assert.equal(plain.message.content, text);
  assert.equal(plain.message.role, 'assistant');
});

test('generate: response strings, num_predict honoured, stream is NDJSON even with Accept: application/json', async () => {
  const r = await ollama.generate({ model: modelId, prompt: 'Once upon a time', stream: false,
    options: { temperature: 0, num_predict: 7 } });
  assert.equal(typeof r.response, 'string');
  assert.ok(r.eval_count <= 7);
  const raw = await fetch(srv.url + '/api/generate', {
    method: 'POST', headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: modelId, prompt: 'Once upon a time', options: { temperature: 0, num_predict: 7 } }),
  });
  assert.match(raw.headers.get('content-type'), /ndjson/);
  const lines = (await raw.text()).trim().split('\n').map((l) => JSON.parse(l));
  for (const l of lines) assert.equal(typeof l.response, 'string');
  assert.equal(lines.at(-1).done, true);
  assert.equal(lines.map((l) => l.response).join(''), r.response);
});

test('ollama errors are {"error": "..."}', async () => {
  const r = await fetch(srv.url + '/api/chat', { method: 'POST', body: '{"messages": 5}' });
  assert.equal(r.status, 400);
  assert.equal(typeof (await r.json()).error, 'string');
});
