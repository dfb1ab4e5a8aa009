// deploy/nginx/jetlm.conf on loopback ports: two replicas behind Debian's
// nginx, 8 concurrent streams spread over both with least_conn and passed
// unbuffered, and a stopped replica skipped.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, freePort, postJson, metric, sleep, root } from './lib.mjs';

const nginxBin = process.env.NGINX || '/usr/sbin/nginx';
let a, b, nginx, url, dir;

before(async () => {
  [a, b] = await Promise.all([startServer({ args: ['--parallel', '2', '-c', '512'] }),
    startServer({ args: ['--parallel', '2', '-c', '512'] })]);
  const port = await freePort();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'jetlm-nginx-'));
  fs.chmodSync(dir, 0o777);  // workers may run as nobody when the test runs as root
  const site = fs.readFileSync(path.join(root, 'deploy', 'nginx', 'jetlm.conf'), 'utf8')
    .replace('127.0.0.1:8081', `127.0.0.1:${a.port}`)
    .replace('127.0.0.1:8082', `127.0.0.1:${b.port}`)
    .replace('listen 8080;', `listen 127.0.0.1:${port};`);
  assert.ok(site.includes(`${a.port}`) && site.includes(`${b.port}`) && site.includes(`:${port};`));
  fs.writeFileSync(path.join(dir, 'jetlm.conf'), site);
  const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${dir}/${t};`).join('\n  ');
  fs.writeFileSync(path.join(dir, 'nginx.conf'), `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  ${temps}
  include ${dir}/jetlm.conf;
}
`);
  nginx = spawn(nginxBin, ['-p', dir, '-e', path.join(dir, 'error.log'), '-c', path.join(dir, 'nginx.conf')], { stdio: 'inherit' });
  url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try { if ((await fetch(url + '/health')).status === 200) break; } catch { /* starting */ }
    if (i > 100 || nginx.exitCode !== null) throw new Error('nginx did not start: ' + (fs.existsSync(`${dir}/error.log`) ? fs.readFileSync(`${dir}/error.log`, 'utf8') : ''));
    await sleep(50);
  }
});

after(async () => {
  if (nginx && nginx.exitCode === null) {
    nginx.kill('SIGQUIT');
    await new Promise((r) => nginx.once('exit', r));
  }
  await Promise.all([a.stop(), b.stop()]);
  fs.rmSync(dir, { recursive: true, force: true });
});

// Reads a stream as it arrives, recording when each event came.
async function timedStream(body) {
  const t0 = Date.now();
  const r = await fetch(url + '/v1/chat/completions', { method: 'POST', body: JSON.stringify({ ...body, stream: true }) });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/event-stream/);
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = '', text = '', done = false, reads = 0;
  for (;;) {
    const { value, done: end } = await reader.read();
    if (end) break;
    reads++;
    buf += dec.decode(value, { stream: true });
    let at;
    while ((at = buf.indexOf('\n\n')) >= 0) {
      const data = buf.slice(6, at);
      buf = buf.slice(at + 2);
      if (data === '[DONE]') { done = true; continue; }
      text += JSON.parse(data).choices[0]?.delta?.content || '';
    }
  }
  return { text, done, reads, ms: Date.now() - t0 };
}

test('8 concurrent streams through nginx reach both replicas, unbuffered, with the direct answer', async () => {
  const req = { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 200, temperature: 0 };
  const direct = (await postJson(a.url + '/v1/chat/completions', req)).json.choices[0].message.content;
  const runs = await Promise.all(Array.from({ length: 8 }, () => timedStream(req)));
  for (const r of runs) {
    assert.ok(r.done);
    assert.equal(r.text, direct);
  }
  assert.ok(runs.some((r) => r.reads > 1), 'the events came in several reads (not buffered into one)');
  const na = await metric(a.url, 'jetlm_requests_total'), nb = await metric(b.url, 'jetlm_requests_total');
  assert.ok(na >= 2 && nb >= 2, `replica A served ${na}, B ${nb}`);
});

test('a stopped replica is skipped', async () => {
  await b.stop();
  for (let i = 0; i < 4; i++) {
    const r = await postJson(url + '/v1/chat/completions', { messages: [{ role: 'user', content: 'Hi' }], max_tokens: 5 });
    assert.equal(r.status, 200, r.text);
  }
  assert.equal((await fetch(url + '/health')).status, 200);
});
