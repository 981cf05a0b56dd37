#!/usr/bin/env bash
# Installs headless Chromium (Debian package `chromium`) for the browser console test
# (tests/web/test_console_chromium.py). Idempotent: does nothing when /usr/bin/chromium exists.
# Needs root (CI runs as root); as another user it says what to run and fails.
set -euo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ -x "$CHROMIUM" ]; then
    echo "chromium already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-chromium.sh: $CHROMIUM is missing and this is not root;" \
        "run: sudo apt-get update && sudo apt-get install -y chromium" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y chromium
echo "chromium installed: $("$CHROMIUM" --version)"
