"""18.0.1.3.0: the shipped rate card was checked again and five authentication rates fixed (the
2024 conversation rates were left over). Its records are not updated by the data file (users may
edit them), so a rate still at the value shipped before takes the new value and its source; a
rate someone changed is left as they set it."""

from odoo import SUPERUSER_ID, api

# xml id: the price shipped before 18.0.1.3.0
FIXED = {
    "rate_id_authentication": 0.03,
    "rate_de_authentication": 0.0768,
    "rate_uk_authentication": 0.0358,
    "rate_us_authentication": 0.0135,
    "rate_row_authentication": 0.0224,
}


def fixed_rates(env):
    """{rate: (price, source)} of the data file, for the fixed rates still at their old price."""
    from lxml import etree
    from odoo.tools import file_open

    with file_open("whatsapp_helpdesk/data/whatsapp_rate_data.xml", "rb") as data:
        records = etree.parse(data).getroot().iter("record")
        shipped = {
            record.get("id"): {field.get("name"): field.text for field in record.iter("field")}
            for record in records
            if record.get("id") in FIXED
        }
    found = {}
    for xmlid, old_price in FIXED.items():
        rate = env.ref(f"whatsapp_helpdesk.{xmlid}", raise_if_not_found=False)
        if rate and abs(rate.price - old_price) < 1e-9 and xmlid in shipped:
            values = shipped[xmlid]
            found[rate] = (float(values["price"]), values.get("source") or rate.source)
    return found


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    for rate, (price, source) in fixed_rates(env).items():
        rate.write({"price": price, "source": source})
