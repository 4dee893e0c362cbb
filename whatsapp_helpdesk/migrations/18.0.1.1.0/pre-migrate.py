"""18.0.1.1.0: fields of inherited models carry the ``whatsapp_`` prefix; rules, FAQ entries and
opt-ins belong to a company.

Runs before the models are loaded: columns (and the field records that point at them) are renamed
so that the data stays, and missing companies are filled in so that the new NOT NULL constraints
can be set.
"""

import logging

_logger = logging.getLogger(__name__)

RENAMED_FIELDS = [
    # (model, table or None for a field without a column, old name, new name)
    ("helpdesk.ticket", "helpdesk_ticket", "first_response_at", "whatsapp_first_response_at"),
    ("helpdesk.ticket", "helpdesk_ticket", "first_response_hours", "whatsapp_first_response_hours"),
    ("helpdesk.ticket", "helpdesk_ticket", "resolution_hours", "whatsapp_resolution_hours"),
    ("whatsapp.conversation", None, "message_ids_wa", "whatsapp_message_ids"),
    ("whatsapp.conversation", None, "wa_message_count", "whatsapp_message_count"),
]
COMPANY_TABLES = ["whatsapp_auto_reply", "whatsapp_faq", "whatsapp_optin"]


def _column_exists(cr, table, column):
    cr.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
        (table, column),
    )
    return bool(cr.fetchone())


def _rename_field(cr, model, table, old, new):
    if table and _column_exists(cr, table, old) and not _column_exists(cr, table, new):
        cr.execute(f'ALTER TABLE "{table}" RENAME COLUMN "{old}" TO "{new}"')
    cr.execute(
        "UPDATE ir_model_fields SET name = %s WHERE model = %s AND name = %s",
        (new, model, old),
    )
    prefix = f"field_{model.replace('.', '_')}__"
    cr.execute(
        "UPDATE ir_model_data SET name = %s WHERE module = 'whatsapp_helpdesk' AND name = %s",
        (prefix + new, prefix + old),
    )


def migrate(cr, version):
    if not version:
        return
    for model, table, old, new in RENAMED_FIELDS:
        _rename_field(cr, model, table, old, new)
    cr.execute("SELECT id FROM res_company ORDER BY id LIMIT 1")
    (first_company,) = cr.fetchone()
    for table in COMPANY_TABLES:
        if _column_exists(cr, table, "company_id"):
            cr.execute(
                f'UPDATE "{table}" SET company_id = %s WHERE company_id IS NULL', (first_company,)
            )
            if cr.rowcount:
                _logger.info("%s: %s row(s) given the main company", table, cr.rowcount)
