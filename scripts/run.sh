#!/usr/bin/env bash
# Odoo 18 with whatsapp_helpdesk and demo data on http://127.0.0.1:8069, talking to the local
# Cloud API sandbox on http://127.0.0.1:8765 (which posts its webhooks back to Odoo).
# Idempotent: a second run reuses the database (and updates the addon when its files changed).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

ODOO="$(bash scripts/setup.sh | tail -n 1)"
PY="$ODOO_VENV/bin/python"
DB="${WA_DB:-whatsapp_demo}"
HTTP_PORT="${HTTP_PORT:-8069}"
SANDBOX_PORT="${SANDBOX_PORT:-8765}"
RUN_DIR="$REPO_ROOT/.run"
mkdir -p "$RUN_DIR"
ensure_postgres

# shellcheck disable=SC2046
ODOO_CMD=("$PY" "$ODOO/odoo-bin" $(odoo_db_args) -d "$DB" --addons-path="$(addons_path "$ODOO")"
  --http-interface=127.0.0.1 --http-port="$HTTP_PORT")
# -d alone (no --db-filter) exposes that one database and spares every webhook request, which
# comes without a session cookie, a PostgreSQL connection to list the databases.

db_has_addon() {
  "$PY" - "$DB" <<PYEOF 2>/dev/null
import sys, psycopg2
try:
    c = psycopg2.connect(dbname=sys.argv[1], host="$PGHOST_ADDR", user="$PGUSER_NAME", password="$PGPASS")
except psycopg2.OperationalError:
    sys.exit(1)
cur = c.cursor()
cur.execute("SELECT 1 FROM ir_module_module WHERE name='whatsapp_helpdesk' AND state='installed'")
sys.exit(0 if cur.fetchone() else 1)
PYEOF
}

ADDON_HASH="$(find "${WA_ADDONS[@]}" -type f -not -path '*/__pycache__/*' -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
if ! db_has_addon; then
  log "creating database $DB with $(wa_addons_csv) and demo data"
  "${ODOO_CMD[@]}" -i "$(wa_addons_csv)" --stop-after-init --max-cron-threads=0
  echo "$ADDON_HASH" > "$RUN_DIR/$DB.addon-hash"
elif [ "$(cat "$RUN_DIR/$DB.addon-hash" 2>/dev/null)" != "$ADDON_HASH" ]; then
  log "updating $(wa_addons_csv) in $DB"
  # -i too: an addon added to the repository since the database was made gets installed
  "${ODOO_CMD[@]}" -i "$(wa_addons_csv)" -u "$(wa_addons_csv)" --stop-after-init --max-cron-threads=0
  echo "$ADDON_HASH" > "$RUN_DIR/$DB.addon-hash"
else
  log "reusing database $DB"
fi

# Point the demo account and the base URL at this machine's ports.
"$PY" - <<PYEOF
import psycopg2
c = psycopg2.connect(dbname="$DB", host="$PGHOST_ADDR", user="$PGUSER_NAME", password="$PGPASS")
cur = c.cursor()
cur.execute("UPDATE whatsapp_account SET api_base_url=%s WHERE phone_number_id='100000000000001'",
            ("http://127.0.0.1:$SANDBOX_PORT",))
cur.execute("UPDATE ir_config_parameter SET value=%s WHERE key='web.base.url'",
            ("http://127.0.0.1:$HTTP_PORT",))
cur.execute("""UPDATE whatsapp_assistant_provider SET url=%s WHERE id IN (
                 SELECT res_id FROM ir_model_data WHERE module='whatsapp_helpdesk'
                    AND name='assistant_provider_demo')""",
            ("http://127.0.0.1:$SANDBOX_PORT/llm/v1",))
c.commit()
PYEOF

# The sandbox plays Meta for the demo account: its ids, and the token and app secret its demo data
# drew at install, handed over in the sandbox's environment (not on a command line anyone can see).
SANDBOX_ENV="$("$PY" scripts/demo_account.py "$DB")" || { log "no usable demo account in $DB"; exit 1; }

# The sandbox's control routes (re-pointing its webhooks, making customers write) need its control
# token, so that no web page the browser opens can use them: drawn here unless given, handed over
# in the environment too, and kept (owner only) for `make say` while the sandbox runs.
CONTROL_TOKEN="${WA_SANDBOX_CONTROL_TOKEN:-$("$PY" -c 'import secrets; print(secrets.token_hex(24))')}"
TOKEN_FILE="$RUN_DIR/sandbox-$SANDBOX_PORT.token"

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -f "$TOKEN_FILE"
}
trap cleanup EXIT INT TERM
(umask 077 && printf '%s\n' "$CONTROL_TOKEN" >"$TOKEN_FILE")

(cd whatsapp_helpdesk &&
  while IFS='=' read -r name value; do export "$name=$value"; done <<<"$SANDBOX_ENV" &&
  export WA_SANDBOX_CONTROL_TOKEN="$CONTROL_TOKEN" &&
  exec "$PY" -m tools.sandbox serve --port "$SANDBOX_PORT" \
    --webhook-url "http://127.0.0.1:$HTTP_PORT/whatsapp/webhook") &
pids+=($!)

"${ODOO_CMD[@]}" ${ODOO_ARGS:-} &
pids+=($!)

for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$HTTP_PORT/web/health" >/dev/null 2>&1 && break
  sleep 1
done

# The demo customers greet the shop, which opens their 24-hour window (Meta's rule): once per
# database, while their conversation holds no message (scripts/demo_greet.py), not at every run.
GREETINGS="$("$PY" scripts/demo_greet.py "$DB")" || GREETINGS=""
(cd whatsapp_helpdesk && while IFS='|' read -r number name text; do
  [ -n "$number" ] || continue
  WA_SANDBOX_CONTROL_TOKEN="$CONTROL_TOKEN" "$PY" -m tools.sandbox say --sandbox-url "http://127.0.0.1:$SANDBOX_PORT" \
    --from "$number" --name "$name" "$text" >/dev/null || true
done <<<"$GREETINGS")

"$PY" scripts/demo_ready.py "http://127.0.0.1:$HTTP_PORT" "$DB" || true

cat <<INFO

  Odoo:     http://127.0.0.1:$HTTP_PORT   (login admin / password admin, database $DB)
  Sandbox:  http://127.0.0.1:$SANDBOX_PORT/_sandbox/?token=$CONTROL_TOKEN
            (make a customer write; see what Odoo sent; the token keeps other web pages out)
  The agents' chat: WhatsApp > Workspace (admin, or sofia / sofia for an agent).
  The notification templates were submitted to the sandbox, which approves them (feedback_request
  stays a draft to submit): confirm the order of Ana Souza (Sales), then validate its delivery
  (give it a tracking reference), and both notifications leave on WhatsApp. Then, as Ana, ask
  the assistant "where is my order?":
    make say FROM=5511987654321 TEXT="where is my order?" SANDBOX_PORT=$SANDBOX_PORT
  A customer answers from the command line:
    make say FROM=5511987654321 TEXT="Obrigada!" SANDBOX_PORT=$SANDBOX_PORT
  Ctrl-C stops both.

INFO
wait -n "${pids[@]}"
