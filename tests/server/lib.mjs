// Helpers of the jetlm serve end-to-end tests: start a server on a free
// loopback port, wait for /health, stop it; raw HTTP and SSE reading.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '..', '..');
export const jetlm = process.env.JETLM_BIN || path.join(root, 'build', 'jetlm');
export const stories = path.join(root, 'models', 'stories260K.gguf');
export const fixture = (name) => path.join(root, 'tests', 'data', 'models', name);

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts `jetlm serve -m model args...`; resolves once /health is 200.
export async function startServer({ model = stories, args = [], port } = {}) {
  port = port || (await freePort());
  const proc = spawn(jetlm, ['serve', '-m', model, '--host', '127.0.0.1', '--port', String(port), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const url = `http://127.0.0.1:${port}`;
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`jetlm serve exited (${proc.exitCode}): ${log}`);
    try {
      const r = await fetch(url + '/health');
      if (r.status === 200) break;
    } catch { /* not listening yet */ }
    if (Date.now() - t0 > 20000) throw new Error(`jetlm serve not healthy after 20 s: ${log}`);
    await sleep(50);
  }
  return {
    url, port, proc,
    log: () => log,
    async stop() {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      return await new Promise((r) => proc.once('exit', (code) => r(code)));
    },
  };
}

export async function postJson(url, body, headers = {}) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, text, json };
}

// POSTs a streaming request and returns the parsed SSE data payloads (without [DONE]) and whether [DONE] came.
export async function postSse(url, body, headers = {}) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ ...body, stream: true }),
  });
  const text = await r.text();
  const events = [];
  let done = false;
  for (const block of text.split('\n\n')) {
    if (!block.startsWith('data: ')) continue;
    const data = block.slice(6);
    if (data === '[DONE]') done = true;
    else events.push(JSON.parse(data));
  }
  return { status: r.status, headers: r.headers, events, done };
}

// The value of one Prometheus sample (first line starting with `name `).
export async function metric(url, name, headers = {}) {
  const r = await fetch(url + '/metrics', { headers });
  const text = await r.text();
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}
