#!/usr/bin/env bash
# Prepares what `make run` and `make test` need: Odoo 18.0 sources, a venv with Odoo's requirements
# and ours (requirements.txt, requirements-odoo.txt), PostgreSQL. Idempotent: a second call only
# checks.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ODOO="$(find_odoo || true)"
if [ -z "$ODOO" ]; then
  log "no Odoo 18.0 in \$ODOO_PATH, $ODOO_HOME or .odoo/: cloning $ODOO_GIT_URL (branch 18.0)"
  # Offline or unreachable: give up within seconds (no credential prompt), and abort a clone
  # that stalls; a slow but moving clone goes on.
  export GIT_TERMINAL_PROMPT=0
  if timeout 30 git ls-remote --exit-code --heads "$ODOO_GIT_URL" 18.0 >/dev/null 2>&1 &&
    git -c http.lowSpeedLimit=1000 -c http.lowSpeedTime=60 \
      clone --depth 1 --branch 18.0 "$ODOO_GIT_URL" "$REPO_ROOT/.odoo"; then
    ODOO="$REPO_ROOT/.odoo"
  else
    log "could not clone Odoo from $ODOO_GIT_URL; set ODOO_PATH to an Odoo 18.0 source tree"
    exit 3
  fi
fi

stamp_input() {
  cat "$ODOO/requirements.txt" "$REPO_ROOT/requirements.txt" "$REPO_ROOT/requirements-odoo.txt" \
    "$REPO_ROOT/scripts/setup.sh"
  printf '%s\n' "$ODOO"
}
STAMP="$ODOO_VENV/.whatsapp_helpdesk.stamp"
WANT="$(stamp_input | sha256sum | cut -d' ' -f1)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$ODOO_VENV/bin/python" ]; then
  printf '%s\n' "$ODOO"
  exit 0
fi

log "preparing the venv $ODOO_VENV for $ODOO (a few minutes the first time)"
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  missing=()
  for pkg in libldap2-dev libsasl2-dev libpq-dev chromium chromium-driver; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi
[ -x "$ODOO_VENV/bin/python" ] || python3 -m venv "$ODOO_VENV"
PIP=("$ODOO_VENV/bin/python" -m pip --disable-pip-version-check -q)
"${PIP[@]}" install -U pip wheel "setuptools<81"
# Odoo pins cbor2 5.4.2, which no longer builds on Python 3.11; 5.4.6 is the same API.
REQ="$(mktemp)"
sed -E 's/^cbor2==5\.4\.2/cbor2==5.4.6/' "$ODOO/requirements.txt" > "$REQ"
"${PIP[@]}" install -r "$REQ"
rm -f "$REQ"
# compat mode: a plain editable install is shadowed by the odoo/addons folder of PyPI addon wheels.
"${PIP[@]}" install --no-deps -e "$ODOO" --config-settings editable_mode=compat
# Ours: the plain tools, tests and linters, then what only Odoo's venv can install (OCA wheels).
"${PIP[@]}" install -r "$REPO_ROOT/requirements.txt" -r "$REPO_ROOT/requirements-odoo.txt"
printf '%s\n' "$WANT" > "$STAMP"
log "venv ready"
printf '%s\n' "$ODOO"
