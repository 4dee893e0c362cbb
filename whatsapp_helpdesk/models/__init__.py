from . import (
    res_partner,
    whatsapp_account,
    whatsapp_conversation,
    whatsapp_message,
    whatsapp_template,
    whatsapp_template_button,
    whatsapp_template_variable,
    whatsapp_webhook_event,
)
