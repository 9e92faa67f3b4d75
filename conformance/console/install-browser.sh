#!/usr/bin/env bash
# Debian's chromium and chromedriver, for the console's browser tests: installed with
# apt-get when missing (as root, or with sudo).
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  chromium --version 2>/dev/null | tail -n1
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[[ "$(id -u)" -ne 0 ]] && SUDO="sudo"
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
chromium --version 2>/dev/null | tail -n1
