#!/bin/sh
# Installs Debian's prometheus package for its promtool, which checks and
# tests deploy/prometheus/alerts.yaml (cmd/paycode/alerts_test.go skips
# without it). Only the tool is needed: the server the package installs is
# stopped and disabled where systemd runs it.
# Idempotent: does nothing when promtool is there.
set -eu
if command -v promtool >/dev/null 2>&1; then
	exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends prometheus
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
	$SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
promtool --version
