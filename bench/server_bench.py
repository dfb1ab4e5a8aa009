#!/usr/bin/env python3
"""Throughput of an OpenAI-compatible server under concurrent streams.

Sends N concurrent streaming /v1/chat/completions requests of T tokens each
(ignore_eos, temperature 0, distinct prompts so no prompt is shared) and
reports aggregate generation tokens/s (all tokens / wall time from the first
request to the last token), TTFT p50/p90 and mean per-stream tokens/s. Works
against jetlm serve and llama-server alike (both accept ignore_eos and
stream_options.include_usage). Standard library only.

  bench/server_bench.py --url http://127.0.0.1:8080 -n 8 -t 128 [--rounds 3] [--json]
"""
import argparse
import http.client
import json
import math
import statistics
import sys
import threading
import time
import urllib.parse

PROMPTS = ["Tell me a story about a cat.", "Once upon a time there was a dog.", "Write about the sea.",
           "A girl found a red ball.", "The sun was hot that day.", "Tom and Lily went to the park.",
           "There was a little bird.", "The old man had a boat."]


def one_stream(url, tokens, prompt, out):
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=600)
    body = json.dumps({"messages": [{"role": "user", "content": prompt}], "max_tokens": tokens,
                       "temperature": 0, "ignore_eos": True, "stream": True,
                       "stream_options": {"include_usage": True}})
    t0 = time.perf_counter()
    conn.request("POST", "/v1/chat/completions", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    if resp.status != 200:
        out.update(error=f"HTTP {resp.status}: {resp.read()[:200]!r}")
        return
    ttft, n_chunks, usage = None, 0, None
    for raw in resp:
        line = raw.strip()
        if not line.startswith(b"data: ") or line == b"data: [DONE]":
            continue
        ev = json.loads(line[6:])
        if ev.get("usage"):
            usage = ev["usage"]
        ch = ev.get("choices") or []
        if ch and ch[0].get("delta", {}).get("content"):
            n_chunks += 1
            if ttft is None:
                ttft = time.perf_counter() - t0
    t1 = time.perf_counter()
    n = usage["completion_tokens"] if usage else n_chunks
    out.update(start=t0, end=t1, ttft=ttft or (t1 - t0), tokens=n)
    conn.close()


def run_round(url, n, tokens):
    results = [dict() for _ in range(n)]
    threads = [threading.Thread(target=one_stream, args=(url, tokens, PROMPTS[i % len(PROMPTS)] + f" ({i})", results[i]))
               for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    errors = [r["error"] for r in results if "error" in r]
    if errors:
        raise SystemExit("server_bench: " + errors[0])
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    total = sum(r["tokens"] for r in results)
    ttfts = sorted(r["ttft"] for r in results)
    per_stream = [r["tokens"] / (r["end"] - r["start"] - r["ttft"]) for r in results if r["end"] - r["start"] > r["ttft"]]
    return {"aggregate_tps": total / wall, "tokens": total, "wall_s": wall,
            "ttft_p50_ms": 1000 * statistics.median(ttfts), "ttft_p90_ms": 1000 * ttfts[min(len(ttfts) - 1, math.ceil(0.9 * len(ttfts)) - 1)],
            "stream_tps_mean": statistics.mean(per_stream) if per_stream else 0.0}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:8080")
    ap.add_argument("-n", "--streams", type=int, default=8)
    ap.add_argument("-t", "--tokens", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=3, help="measured rounds after one warm-up (the median is reported)")
    ap.add_argument("--label", default="")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    run_round(a.url, 1, 8)  # warm-up: load, caches, first graphs
    rounds = [run_round(a.url, a.streams, a.tokens) for _ in range(a.rounds)]
    best = sorted(rounds, key=lambda r: r["aggregate_tps"])[len(rounds) // 2]
    best.update(label=a.label, streams=a.streams, tokens_per_stream=a.tokens, rounds=a.rounds)
    if a.json:
        print(json.dumps(best))
    else:
        print(f"| {a.label or a.url} | {a.streams} x {a.tokens} | {best['aggregate_tps']:.1f} t/s | "
              f"TTFT p50 {best['ttft_p50_ms']:.0f} ms (p90 {best['ttft_p90_ms']:.0f}) | "
              f"{best['stream_tps_mean']:.1f} t/s per stream |")


if __name__ == "__main__":
    sys.exit(main())
