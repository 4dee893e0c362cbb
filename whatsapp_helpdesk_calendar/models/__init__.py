# isort: off
from . import whatsapp_reminder_rule
from . import whatsapp_reminder
from . import calendar_event
# isort: on
