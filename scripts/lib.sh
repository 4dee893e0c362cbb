#!/usr/bin/env bash
# Shared by run.sh, test.sh and setup.sh: where Odoo and its venv live, and PostgreSQL start-up.
# Odoo is looked up in this order: $ODOO_PATH, the machine-wide $ODOO_HOME (default /opt/odoo-18.0),
# then a git-ignored clone in .odoo/ that setup.sh makes from GitHub when it can.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ODOO_HOME="${ODOO_HOME:-/opt/odoo-18.0}"
ODOO_VENV="${ODOO_VENV:-/opt/odoo-18.0-venv}"
ODOO_GIT_URL="${ODOO_GIT_URL:-https://github.com/odoo/odoo.git}"
PGUSER_NAME="${PGUSER:-odoo}"
PGPASS="${PGPASSWORD:-odoo}"
PGHOST_ADDR="${PGHOST:-127.0.0.1}"

# The addons of this repository, core first: installed by run.sh, installed and tested by test.sh.
WA_ADDONS=(whatsapp_helpdesk whatsapp_helpdesk_website whatsapp_helpdesk_calendar)
wa_addons_csv() { local IFS=,; printf '%s\n' "${WA_ADDONS[*]}"; }
wa_test_tags() { local a tags=(); for a in "${WA_ADDONS[@]}"; do tags+=("/$a"); done; local IFS=,; printf '%s\n' "${tags[*]}"; }

log() { printf '[whatsapp_helpdesk] %s\n' "$*" >&2; }

is_odoo_tree() { [ -f "$1/odoo-bin" ] && [ -f "$1/odoo/release.py" ] && [ -d "$1/odoo/addons/base" ]; }

# Prints the Odoo source folder, or nothing when none is found.
find_odoo() {
  local candidate
  for candidate in "${ODOO_PATH:-}" "$ODOO_HOME" "$REPO_ROOT/.odoo"; do
    if [ -n "$candidate" ] && is_odoo_tree "$candidate"; then
      printf '%s\n' "$candidate"
      return 0
    fi
  done
  return 1
}

# The addons path: Odoo's own addons, then this repository (which holds the addon folder).
addons_path() {
  local odoo="$1"
  printf '%s/odoo/addons,%s\n' "$odoo" "$REPO_ROOT"
}

# Start the local cluster when it is down and make sure the role exists.
ensure_postgres() {
  if command -v pg_lsclusters >/dev/null 2>&1; then
    local ver name status
    while read -r ver name _port status _rest; do
      [ "$ver" = "Ver" ] && continue
      if [ "${status%%,*}" != "online" ]; then
        log "starting PostgreSQL $ver/$name"
        pg_ctlcluster "$ver" "$name" start || true
      fi
    done < <(pg_lsclusters)
  fi
  local i
  for i in $(seq 1 30); do
    if pg_isready -q -h "$PGHOST_ADDR"; then break; fi
    sleep 1
  done
  pg_isready -q -h "$PGHOST_ADDR" || { log "PostgreSQL does not answer on $PGHOST_ADDR"; return 1; }
  if [ "$(id -u)" = "0" ] && id postgres >/dev/null 2>&1; then
    local exists
    exists=$(su postgres -c "psql -tAc \"SELECT 1 FROM pg_roles WHERE rolname='$PGUSER_NAME'\"" 2>/dev/null || true)
    if [ "$exists" != "1" ]; then
      log "creating PostgreSQL role $PGUSER_NAME"
      su postgres -c "psql -qc \"CREATE ROLE \\\"$PGUSER_NAME\\\" LOGIN CREATEDB PASSWORD '$PGPASS'\""
    fi
  fi
}

odoo_db_args() {
  printf -- '--db_host=%s --db_user=%s --db_password=%s' "$PGHOST_ADDR" "$PGUSER_NAME" "$PGPASS"
}
