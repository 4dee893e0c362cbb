# Two commands for a newcomer: `make run` (the product) and `make test` (every test).
.PHONY: run test setup sandbox say bench-intake lint

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

setup:
	bash scripts/setup.sh

lint:
	ruff check . && ruff format --check .

SANDBOX_PORT ?= 8765
SANDBOX_URL ?= http://127.0.0.1:$(SANDBOX_PORT)
FROM ?= 5511987654321
NAME ?= Customer
TEXT ?= Hello!
# The sandbox's control token: $$WA_SANDBOX_CONTROL_TOKEN, else the one `make run` drew for that port.
say:
	cd whatsapp_helpdesk && WA_SANDBOX_CONTROL_TOKEN="$${WA_SANDBOX_CONTROL_TOKEN:-$$(cat ../.run/sandbox-$(SANDBOX_PORT).token 2>/dev/null)}" \
	  $${ODOO_VENV:-/opt/odoo-18.0-venv}/bin/python -m tools.sandbox say --sandbox-url $(SANDBOX_URL) --from $(FROM) --name "$(NAME)" "$(TEXT)"

bench-intake:
	$${ODOO_VENV:-/opt/odoo-18.0-venv}/bin/python bench/intake.py $(ARGS)
