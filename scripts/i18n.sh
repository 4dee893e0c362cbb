#!/usr/bin/env bash
# Regenerates each addon's i18n/<addon>.pot from the code with Odoo's own exporter (a fresh database
# with the addons installed, without demo data, as Odoo makes its .pot files), then brings every
# i18n/<lang>.po in step with it (new entries empty, gone ones dropped, translations kept).
# Run it after changing any user-facing string; tests/test_i18n.py and the Odoo test test_i18n fail
# until it has been run and the new entries translated.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

ODOO="$(find_odoo)" || { log "Odoo 18.0 not found: run make setup first"; exit 1; }
ensure_postgres
DB="${I18N_DB:-wa_i18n_$$}"
PORT="${I18N_PORT:-$((28000 + RANDOM % 1000))}"
# shellcheck disable=SC2046
odoo() {
  "$ODOO_VENV/bin/python" "$ODOO/odoo-bin" $(odoo_db_args) -d "$DB" \
    --addons-path="$(addons_path "$ODOO")" --http-interface=127.0.0.1 --http-port="$PORT" \
    --max-cron-threads=0 --log-level=warn --stop-after-init "$@"
}
cleanup() {
  PGPASSWORD="$PGPASS" dropdb -h "$PGHOST_ADDR" -U "$PGUSER_NAME" --if-exists "$DB"
  rm -rf "${HOME}/.local/share/Odoo/filestore/$DB"  # as scripts/test.sh does
}
trap cleanup EXIT

log "installing $(wa_addons_csv) in $DB (without demo data)"
odoo -i "$(wa_addons_csv)" --without-demo=all
for addon in "${WA_ADDONS[@]}"; do
  mkdir -p "$addon/i18n"
  log "exporting $addon/i18n/$addon.pot"
  odoo --i18n-export="$addon/i18n/$addon.pot" --modules="$addon"
done
"$ODOO_VENV/bin/python" scripts/i18n_merge.py "${WA_ADDONS[@]}"
