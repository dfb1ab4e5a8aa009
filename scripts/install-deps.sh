#!/usr/bin/env bash
# Installs what jetlm needs to build and test on Debian/Ubuntu (Debian packages only).
set -euo pipefail
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
  build-essential cmake pkg-config python3 \
  libpcre2-dev nlohmann-json3-dev libgtest-dev libbenchmark-dev \
  libcurl4-openssl-dev libssl-dev libcpp-httplib-dev python3-matplotlib >/dev/null
# jetlm serve (cpp-httplib) and its end-to-end tests (tests/server/run.sh):
# nginx for the scale-out recipe, Chromium for the chat page, node + the
# npm clients pinned in tests/server/package-lock.json.
$SUDO apt-get install -y -qq --no-install-recommends libcpp-httplib-dev nginx chromium >/dev/null
command -v npm >/dev/null || $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
(cd "$(dirname "$0")/../tests/server" && npm ci --no-audit --no-fund --loglevel=error)
# clang and its libFuzzer runtime, for the bounded template fuzzing in CI (.ci/fuzz-templates.sh).
$SUDO apt-get install -y -qq --no-install-recommends clang libclang-rt-14-dev >/dev/null
