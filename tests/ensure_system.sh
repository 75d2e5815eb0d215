#!/usr/bin/env bash
# System packages the browser tests need: Debian's Chromium and a CJK font.
set -uo pipefail
if [ -x /usr/bin/chromium ] && [ "$(fc-list 2>/dev/null | grep -ci "Noto Sans CJK")" -gt 0 ]; then exit 0; fi
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
echo "installing chromium and fonts-noto-cjk (Debian packages)…" >&2
$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
