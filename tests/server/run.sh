#!/usr/bin/env bash
# End-to-end tests of jetlm serve (CI runs this after scripts/test.sh):
# the official openai and ollama npm clients, raw HTTP, the chat page in
# headless Chromium, and two replicas behind nginx. Each test file starts its
# own servers on free loopback ports.
#
# Usage: tests/server/run.sh [BUILD_DIR] [test files...]   (default: build, every *.test.mjs)
# Needs node >= 20, Debian's chromium and nginx, and the packages of
# package-lock.json (installed here with `npm ci` when missing).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="${1:-build}"
[ $# -gt 0 ] && shift
case "$build" in /*) ;; *) build="$root/$build" ;; esac
export JETLM_BIN="$build/jetlm"
if [ ! -x "$JETLM_BIN" ]; then
  echo "tests/server/run.sh: $JETLM_BIN not found (build jetlm first)" >&2
  exit 1
fi
if ! "$JETLM_BIN" serve --help >/dev/null 2>&1; then
  echo "tests/server/run.sh: $JETLM_BIN has no server (built without cpp-httplib?)" >&2
  exit 1
fi
cd "$here"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(*.test.mjs)
# Two files at a time: each runs its own servers, and the CI machine may have two cores.
exec timeout 300 node --test --test-concurrency=2 "${files[@]}"
