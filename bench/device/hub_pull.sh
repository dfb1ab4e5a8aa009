#!/usr/bin/env bash
# jetlm pull against curl on the same loopback server (tests/fake_hub.py, with
# the Hub's 302 to another host name), on one file of SIZE_MB (default 100).
# Issue 24's bar: jetlm no more than 10% slower than curl. Also prints the
# SHA-256 rate of libcrypto on this CPU (hashing runs on its own thread).
# Needs python3 and the curl command-line tool. The API round trips (revision,
# tree) are in jetlm's time, so small files read slower than curl.
#   bench/device/hub_pull.sh [build/jetlm]      SIZE_MB=100 REPS=5 bench/device/hub_pull.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
JETLM=${1:-build/jetlm}
SIZE_MB=${SIZE_MB:-100}
REPS=${REPS:-5}
work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# A GGUF magic then random bytes (jetlm checks the magic, not the contents).
python3 - "$work/model-Q4_K_M.gguf" "$SIZE_MB" <<'PY'
import os, sys
with open(sys.argv[1], "wb") as f:
    f.write(b"GGUF")
    for _ in range(int(sys.argv[2])):
        f.write(os.urandom(1 << 20))
PY
commit=0123456789abcdef0123456789abcdef01234567
cat > "$work/config.json" <<JSON
{"cdn_host": "localhost", "repos": {"bench/model": {"commit": "$commit", "redirect": "absolute",
 "files": {"model-Q4_K_M.gguf": "$work/model-Q4_K_M.gguf"}}}}
JSON
python3 tests/fake_hub.py "$work/config.json" "$work/log.jsonl" > "$work/port" &
server=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(head -1 "$work/port")
url="http://127.0.0.1:$port/bench/model/resolve/$commit/model-Q4_K_M.gguf"
# The server computes the sha256 for its file list once; do it before timing.
curl -sS -o /dev/null "http://127.0.0.1:$port/api/models/bench/model/tree/main?recursive=true"

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
: > "$work/curl.t"
: > "$work/jetlm.t"
for r in $(seq "$REPS"); do
  rm -f "$work/curl.out"
  t0=$(now); curl -sS -L -o "$work/curl.out" "$url"; t1=$(now)
  awk -v a="$t0" -v b="$t1" "BEGIN {print b - a}" >> "$work/curl.t"
  rm -rf "$work/cache"
  t0=$(now)
  HF_ENDPOINT="http://127.0.0.1:$port" HF_HUB_CACHE="$work/cache" HF_HOME="$work/hf" LLAMA_CACHE="$work/none" \
    "$JETLM" pull bench/model > "$work/path" 2> "$work/jetlm.err"
  t1=$(now)
  awk -v a="$t0" -v b="$t1" "BEGIN {print b - a}" >> "$work/jetlm.t"
  cmp -s "$work/curl.out" "$(tail -1 "$work/path")" || { echo "jetlm's file differs from curl's"; exit 1; }
done
c=$(median < "$work/curl.t")
j=$(median < "$work/jetlm.t")
awk -v c="$c" -v j="$j" -v mb="$SIZE_MB" -v reps="$REPS" 'BEGIN {
  printf "file %d MiB, median of %d: curl %.3f s (%.0f MiB/s), jetlm pull %.3f s (%.0f MiB/s), jetlm/curl %.3f %s\n",
         mb, reps, c, mb / c, j, mb / j, j / c, (j <= 1.10 * c) ? "(within 10%: OK)" : "(more than 10% slower: FAIL)" }'
if command -v openssl >/dev/null; then
  openssl speed -evp sha256 -bytes 1048576 -seconds 1 2>/dev/null | awk '/^sha256/ {printf "libcrypto sha256: %.0f MiB/s on this CPU\n", $2 / 1024 / 1.048576}'
fi
