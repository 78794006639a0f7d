#!/bin/sh
# Installs Debian's chromium for the status page test
# (cmd/paycode/status_chromium_test.go), which skips without it.
# Idempotent: does nothing when /usr/bin/chromium is there.
set -eu
if [ -x /usr/bin/chromium ]; then
	exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends chromium
/usr/bin/chromium --version
