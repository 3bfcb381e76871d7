#!/usr/bin/env bash
# What the browser tests need: Debian's headless Chromium (test tools may not download
# their own) and axe-core for the accessibility checks, installed from npm into the
# gitignored .cache/axe (the pages themselves load nothing from other hosts).
set -euo pipefail
cd "$(dirname "$0")/.."
AXE_VERSION=4.14.1
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ ! -f .cache/axe/node_modules/axe-core/axe.min.js ]; then
  if command -v npm >/dev/null 2>&1; then
    npm install --silent --no-audit --no-fund --prefix .cache/axe "axe-core@$AXE_VERSION" >/dev/null \
      || echo "warning: axe-core could not be installed; the accessibility checks will be skipped"
  else
    echo "warning: npm is missing; the accessibility checks will be skipped"
  fi
fi
command -v chromium >/dev/null 2>&1
