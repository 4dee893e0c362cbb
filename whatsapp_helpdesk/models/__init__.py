# Base models first, then what extends them.
# isort: off
from . import whatsapp_inbound_hook
from . import whatsapp_sla
from . import whatsapp_account
from . import whatsapp_conversation
from . import whatsapp_conversation_intake
from . import whatsapp_message
from . import whatsapp_message_outbox
from . import whatsapp_webhook_event
from . import whatsapp_template
from . import whatsapp_template_button
from . import whatsapp_template_variable
from . import whatsapp_notification_rule
from . import whatsapp_optin
from . import whatsapp_faq
from . import whatsapp_auto_reply
from . import whatsapp_assistant
from . import whatsapp_assistant_answers
from . import whatsapp_assistant_provider
from . import whatsapp_assistant_usage
from . import res_partner
from . import account_move
from . import stock_picking
from . import sale_order
from . import helpdesk_ticket_team
from . import helpdesk_ticket
from . import mail_message
from . import whatsapp_workspace
from . import whatsapp_report_mixin
from . import whatsapp_report_service_measures
from . import whatsapp_report_service
from . import whatsapp_report_message
from . import whatsapp_report_ticket
from . import whatsapp_report_backlog
from . import whatsapp_dashboard
from . import helpdesk_ticket_return
# isort: on
