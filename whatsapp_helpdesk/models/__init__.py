from . import (
    res_partner,
    whatsapp_account,
    whatsapp_conversation,
    whatsapp_message,
    whatsapp_webhook_event,
)
