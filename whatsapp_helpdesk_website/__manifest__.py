{
    "name": "WhatsApp Helpdesk: Website",
    "summary": "Click-to-chat on the website: a floating WhatsApp button, a building block, "
    "'Ask about this product', QR codes, and the entry point of every conversation",
    "version": "18.0.1.0.0",
    "category": "Website/Website",
    "license": "LGPL-3",
    "author": "whatsapp_helpdesk developers",
    "website": "https://github.com/whatsapp-helpdesk/whatsapp_helpdesk",
    "depends": ["website_sale", "whatsapp_helpdesk"],
    "external_dependencies": {"python": ["qrcode"]},
    "data": [
        "security/ir.model.access.csv",
        "security/whatsapp_website_security.xml",
        "report/whatsapp_entry_point_report.xml",
        "views/whatsapp_entry_point_views.xml",
        "views/whatsapp_conversation_views.xml",
        "views/product_template_views.xml",
        "views/res_config_settings_views.xml",
        "views/website_templates.xml",
        "views/snippets.xml",
    ],
    "demo": ["demo/website_demo.xml"],
    "assets": {
        "web.assets_frontend": [
            "whatsapp_helpdesk_website/static/src/js/*.js",
            "whatsapp_helpdesk_website/static/src/scss/*.scss",
        ],
        "web.assets_tests": ["whatsapp_helpdesk_website/static/tests/tours/*.js"],
    },
    "installable": True,
    "auto_install": False,
}
