#!/usr/bin/env bash
# jetlm serve against llama-server on the same model file: each is started
# in turn with N sequence slots, measured by bench/server_bench.py (N
# concurrent streams of T tokens: aggregate t/s, TTFT p50), then stopped; then
# jetlm's single stream for the "x own single stream" ratio.
# Not run in CI (figures go to docs/benchmarks.md with the command line).
#
#   bench/server_bench.sh -m MODEL [-n 8] [-t 128] [--jetlm build/jetlm] [--llama-server PATH] [-- extra server args]
# e.g. on the device:  bench/server_bench.sh -m gemma3-1b-q4_k_m.gguf -n 32 --llama-server ~/llama.cpp/build/bin/llama-server -- -ngl 99
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
model="" n=8 t=128 jetlm="$root/build/jetlm" llama="" port=18180
while [ $# -gt 0 ]; do
  case "$1" in
    -m) model="$2"; shift ;;
    -n) n="$2"; shift ;;
    -t) t="$2"; shift ;;
    --jetlm) jetlm="$2"; shift ;;
    --llama-server) llama="$2"; shift ;;
    --port) port="$2"; shift ;;
    --) shift; break ;;
    *) echo "usage: $0 -m MODEL [-n N] [-t TOKENS] [--jetlm BIN] [--llama-server BIN] [-- server args]" >&2; exit 2 ;;
  esac
  shift
done
[ -n "$model" ] || { echo "$0: -m MODEL is required" >&2; exit 2; }
ctx=$(( (t + 64) ))  # per sequence: prompt + generated tokens

pid=""
stop_server() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; fi; }
trap stop_server EXIT
wait_healthy() {
  for _ in $(seq 1 600); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { echo "$0: the server exited" >&2; return 1; }
    sleep 0.2
  done
  echo "$0: the server did not become healthy" >&2; return 1
}
measure() {  # label streams
  python3 "$root/bench/server_bench.py" --url "http://127.0.0.1:$port" -n "$2" -t "$t" --label "$1"
}

echo "| server | streams x tokens | aggregate | TTFT | per stream |"
echo "|---|---|---|---|---|"
# jetlm: -c is the context of one slot.
"$jetlm" serve -m "$model" --port "$port" --parallel "$n" -c "$ctx" "$@" >/dev/null 2>&1 & pid=$!
wait_healthy && measure "jetlm serve -np $n" "$n"
stop_server
"$jetlm" serve -m "$model" --port "$port" --parallel 1 -c "$ctx" "$@" >/dev/null 2>&1 & pid=$!
wait_healthy && measure "jetlm serve -np 1 (single stream)" 1
stop_server
if [ -n "$llama" ]; then
  # llama-server: -c is the total over all slots (split by -np); continuous batching is on by default.
  "$llama" -m "$model" --port "$port" -np "$n" -c $(( ctx * n )) "$@" >/dev/null 2>&1 & pid=$!
  wait_healthy && measure "llama-server -np $n" "$n"
  stop_server
fi
