from . import whatsapp_composer, whatsapp_transfer
