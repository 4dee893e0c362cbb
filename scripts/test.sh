#!/usr/bin/env bash
# The whole test suite: lint, plain pytest of tools/, then the addons' tests inside a real Odoo 18
# on PostgreSQL in a fresh database. Exits non-zero on any failure; the last line counts the Odoo suite.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
set +e
cd "$REPO_ROOT"

failures=0
step() { printf '\n== %s\n' "$*" >&2; }
fail() { log "FAILED: $*"; failures=$((failures + 1)); }

ODOO="$(find_odoo || true)"
if [ -z "$ODOO" ]; then
  # No Odoo here: try the path a user with internet takes (clone), else lint and plain tests only.
  ODOO="$(bash scripts/setup.sh 2>/dev/null | tail -n 1)"
  is_odoo_tree "${ODOO:-/nonexistent}" || ODOO=""
  [ -n "$ODOO" ] || log "no Odoo 18.0 found nor cloned: lint and plain tests only, in .venv/"
fi
if [ -n "$ODOO" ]; then
  bash scripts/setup.sh >/dev/null || { log "could not prepare the Odoo venv"; exit 1; }
  PY="$ODOO_VENV/bin/python"
else
  # Only the plain requirements: the OCA addon wheels of requirements-odoo.txt need Odoo.
  TOOLS_VENV="$REPO_ROOT/.venv"
  [ -x "$TOOLS_VENV/bin/python" ] || python3 -m venv "$TOOLS_VENV"
  "$TOOLS_VENV/bin/python" -m pip -q --disable-pip-version-check install -r requirements.txt || exit 1
  PY="$TOOLS_VENV/bin/python"
fi

step "ruff"
"$PY" -m ruff check . || fail "ruff check"
"$PY" -m ruff format --check . || fail "ruff format"

step "pylint-odoo (OCA mandatory checks)"
"$PY" -m pylint --rcfile=.pylintrc "${WA_ADDONS[@]}" || fail "pylint-odoo"

step "pytest: tools/ without Odoo"
"$PY" -m pytest tests
rc=$?
[ $rc -eq 0 ] || fail "pytest (exit $rc)"

if [ -z "$ODOO" ]; then
  echo "SKIPPED: Odoo 18.0 not found (ODOO_PATH, $ODOO_HOME, .odoo/): the Odoo test suite did not run"
  [ $failures -eq 0 ] || exit 1
  exit 0
fi

step "Odoo tests in a fresh database ($ODOO)"
ensure_postgres || exit 1
DB="wa_test_$(date +%s)_$$"
LOG="$(mktemp -t whatsapp_helpdesk_odoo_tests.XXXXXX.log)"
PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# shellcheck disable=SC2046
"$PY" "$ODOO/odoo-bin" $(odoo_db_args) -d "$DB" \
  --addons-path="$(addons_path "$ODOO")" \
  -i "$(wa_addons_csv)" --test-enable --test-tags "$(wa_test_tags)" \
  --stop-after-init --http-interface=127.0.0.1 --http-port="$PORT" \
  --max-cron-threads=0 --log-level=test >"$LOG" 2>&1
odoo_rc=$?
dropdb_cmd=("$PY" -c "import psycopg2, sys; c=psycopg2.connect(dbname='postgres', host='$PGHOST_ADDR', user='$PGUSER_NAME', password='$PGPASS'); c.autocommit=True; c.cursor().execute('DROP DATABASE IF EXISTS \"$DB\"')")
"${dropdb_cmd[@]}" >/dev/null 2>&1 || true
rm -rf "${HOME}/.local/share/Odoo/filestore/$DB"

grep -E "ERROR|FAIL:|Traceback" "$LOG" | head -40 >&2
result_line="$(grep -E 'odoo\.tests\.result: [0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests' "$LOG" | tail -n 1)"
total=0; failed=0
if [[ "$result_line" =~ ([0-9]+)\ failed,\ ([0-9]+)\ error\(s\)\ of\ ([0-9]+)\ tests ]]; then
  failed=$((BASH_REMATCH[1] + BASH_REMATCH[2]))
  total=${BASH_REMATCH[3]}
elif grep -q "0 failed, 0 error(s) of" "$LOG"; then
  total=0
fi
errors=$(grep -c " ERROR " "$LOG")
[ $odoo_rc -eq 0 ] || fail "odoo-bin exited with $odoo_rc"
[ "$total" -gt 0 ] || fail "no Odoo test ran (see $LOG)"
[ "$errors" -eq 0 ] || fail "$errors ERROR line(s) in the Odoo log $LOG"
[ "$failed" -eq 0 ] || fail "$failed Odoo test(s) failed"
if [ $failures -eq 0 ]; then rm -f "$LOG"; else log "Odoo log kept at $LOG"; fi
echo "$((total - failed)) passed, $failed failed"
[ $failures -eq 0 ] || exit 1
exit 0
