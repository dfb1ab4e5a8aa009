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
