from . import (
    test_automation,
    test_controller,
    test_end_to_end,
    test_helpdesk,
    test_inbox,
    test_intake_processing,
    test_notifications,
    test_outbox,
    test_partner,
    test_security,
    test_templates,
    test_tour,
)
