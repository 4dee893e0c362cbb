{
    "name": "WhatsApp Helpdesk: Appointment Reminders",
    "summary": "WhatsApp reminders of calendar events, N hours before, with Confirm, "
    "Reschedule and Cancel buttons that update the attendee and notify the organiser",
    "version": "18.0.1.0.0",
    "category": "Productivity/Calendar",
    "license": "LGPL-3",
    "author": "whatsapp_helpdesk developers",
    "website": "https://github.com/whatsapp-helpdesk/whatsapp_helpdesk",
    "depends": ["calendar", "whatsapp_helpdesk"],
    "data": [
        "security/ir.model.access.csv",
        "security/whatsapp_calendar_security.xml",
        "data/whatsapp_reminder_template_data.xml",
        "data/ir_cron_data.xml",
        "views/whatsapp_reminder_views.xml",
        "views/calendar_event_views.xml",
    ],
    "demo": ["demo/whatsapp_calendar_demo.xml"],
    "installable": True,
}
