// The chat page served at /: one HTML file with its script, no build step.
// It streams /v1/chat/completions (SSE) with fetch and keeps the conversation
// in the page. data-state on <body> is "idle" or "busy" (the browser test waits on it).
#include "server/routes.h"

namespace jetlm {

const char* const kChatPageHtml = R"JETLM(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>jetlm chat</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; display: flex; flex-direction: column; height: 100vh; }
  header { padding: .5em 1em; background: #223; color: #eee; display: flex; gap: 1em; align-items: center; flex-wrap: wrap; }
  header input { width: 6em; }
  #messages { flex: 1; overflow-y: auto; padding: 1em; }
  .msg { white-space: pre-wrap; margin: .4em 0; padding: .5em .8em; border-radius: .5em; max-width: 80%; }
  .user { background: #dde8ff; margin-left: auto; }
  .assistant { background: #eee; }
  .error { background: #fdd; }
  form { display: flex; gap: .5em; padding: .5em 1em; border-top: 1px solid #ccc; }
  textarea { flex: 1; height: 3em; }
</style>
</head>
<body data-state="idle">
<header>
  <b>jetlm</b> <span id="model">(loading)</span>
  <label>max tokens <input id="max_tokens" type="number" value="256" min="1"></label>
  <label>temperature <input id="temperature" type="number" value="0.8" step="0.1" min="0"></label>
  <label>API key <input id="api_key" type="password" placeholder="(none)"></label>
  <button id="clear" type="button">Clear</button>
</header>
<div id="messages"></div>
<form id="form">
  <textarea id="prompt" placeholder="Say something (Enter sends, Shift+Enter for a new line)"></textarea>
  <button id="send" type="submit">Send</button>
  <button id="stop" type="button" disabled>Stop</button>
</form>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const conversation = [];
let controller = null;
$("api_key").value = localStorage.getItem("jetlm_api_key") || "";
$("api_key").addEventListener("change", () => { localStorage.setItem("jetlm_api_key", $("api_key").value); loadModel(); });

function headers() {
  const h = { "Content-Type": "application/json" };
  if ($("api_key").value) h["Authorization"] = "Bearer " + $("api_key").value;
  return h;
}

async function loadModel() {
  try {
    const r = await fetch("/v1/models", { headers: headers() });
    const j = await r.json();
    $("model").textContent = r.ok ? j.data[0].id : "(" + (j.error && j.error.message) + ")";
  } catch (e) { $("model").textContent = "(" + e + ")"; }
}

function bubble(cls, text) {
  const d = document.createElement("div");
  d.className = "msg " + cls;
  d.textContent = text;
  $("messages").appendChild(d);
  $("messages").scrollTop = $("messages").scrollHeight;
  return d;
}

function setBusy(busy) {
  document.body.dataset.state = busy ? "busy" : "idle";
  $("send").disabled = busy;
  $("stop").disabled = !busy;
}

async function send(text) {
  conversation.push({ role: "user", content: text });
  bubble("user", text);
  const out = bubble("assistant", "");
  setBusy(true);
  controller = new AbortController();
  let answer = "";
  try {
    const r = await fetch("/v1/chat/completions", {
      method: "POST", headers: headers(), signal: controller.signal,
      body: JSON.stringify({ messages: conversation, stream: true,
        max_tokens: Number($("max_tokens").value) || 256, temperature: Number($("temperature").value) }),
    });
    if (!r.ok) {
      const j = await r.json().catch(() => ({}));
      throw new Error((j.error && j.error.message) || ("HTTP " + r.status));
    }
    const reader = r.body.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let at;
      while ((at = buf.indexOf("\n\n")) >= 0) {
        const ev = buf.slice(0, at);
        buf = buf.slice(at + 2);
        if (!ev.startsWith("data: ")) continue;
        const data = ev.slice(6);
        if (data === "[DONE]") continue;
        const j = JSON.parse(data);
        if (j.error) throw new Error(j.error.message);
        const delta = j.choices && j.choices[0] && j.choices[0].delta;
        if (delta && delta.content) { answer += delta.content; out.textContent = answer; }
      }
    }
    conversation.push({ role: "assistant", content: answer });
  } catch (e) {
    if (e.name !== "AbortError") { out.className = "msg error"; out.textContent = answer + "\n[" + e.message + "]"; }
    else conversation.push({ role: "assistant", content: answer });
  } finally {
    controller = null;
    setBusy(false);
  }
}

$("form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = $("prompt").value.trim();
  if (!text || controller) return;
  $("prompt").value = "";
  send(text);
});
$("prompt").addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey) { ev.preventDefault(); $("form").requestSubmit(); }
});
$("stop").addEventListener("click", () => { if (controller) controller.abort(); });
$("clear").addEventListener("click", () => { conversation.length = 0; $("messages").textContent = ""; });
loadModel();
</script>
</body>
</html>
)JETLM";

}  // namespace jetlm
