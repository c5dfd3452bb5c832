#!/usr/bin/env bash
# Installs Debian's `prometheus` package (which brings `promtool`) for the tests that run a
# real Prometheus and check the alert rules. The package's own service is never left
# running: the tests start their own Prometheus on a free port with a temporary config.
set -euo pipefail

if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
    exit 0
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "install-prometheus: need root or sudo for apt-get" >&2; exit 1; }
    SUDO="sudo -n"
fi
APT=(apt-get -o DPkg::Lock::Timeout=600)

# A policy-rc.d that answers 101 keeps the package's service from being started on install.
POLICY=/usr/sbin/policy-rc.d
ADDED_POLICY=""
if [ ! -e "$POLICY" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
    $SUDO chmod 755 "$POLICY"
    ADDED_POLICY=1
fi
cleanup() { if [ -n "$ADDED_POLICY" ]; then $SUDO rm -f "$POLICY"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
$SUDO "${APT[@]}" update -q
$SUDO "${APT[@]}" install -y -q --no-install-recommends prometheus
# Belt and braces for init systems that ignore policy-rc.d: stop and disable the service.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
elif [ -x /etc/init.d/prometheus ]; then
    $SUDO /etc/init.d/prometheus stop >/dev/null 2>&1 || true
fi
command -v prometheus >/dev/null && command -v promtool >/dev/null
