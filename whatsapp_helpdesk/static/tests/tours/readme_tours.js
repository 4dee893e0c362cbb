import { registry } from "@web/core/registry";

/** The README's "Trying it", step by step as a new user clicks it (tests/test_readme_tours.py). */

registry.category("web_tour.tours").add("whatsapp_helpdesk_readme_contact_tour", {
    // Step 2: Contacts > Ana Souza > WhatsApp, type, send; the WhatsApp tab follows the ticks.
    url: "/odoo/contacts",
    steps: () => [
        {
            trigger: ".o_searchview_input",
            run: "edit Ana Readme",
        },
        {
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            trigger: ".o_kanban_record:contains('Ana Readme')",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name=action_whatsapp_compose]",
            run: "click",
        },
        {
            content: "The window is open: free text",
            trigger: ".modal .alert-success:contains('window is open')",
        },
        {
            trigger: ".modal .o_field_widget[name=body] textarea",
            run: "edit Olá Ana, seu pedido saiu hoje.",
        },
        {
            trigger: ".modal button[name=action_send]",
            run: "click",
        },
        {
            content: "Not a silent close: the message is queued and leaving",
            trigger: ".o_notification:contains('leaving now')",
        },
        {
            content: "The WhatsApp tab appears with the message, without a reload",
            trigger: ".o_notebook .nav-link:contains('WhatsApp')",
            run: "click",
        },
        {
            content: "Sent, delivered, then read: the tab follows",
            trigger: ".o_field_widget[name=whatsapp_message_ids] .o_data_row:contains('Olá Ana') td[name=state]:contains('Read')",
        },
    ],
});

registry.category("web_tour.tours").add("whatsapp_helpdesk_readme_order_tour", {
    // Step 5: confirm Ana's order, validate its delivery: two notifications, no SMS dialog.
    url: "/odoo/action-sale.action_quotations_with_onboarding",
    steps: () => [
        {
            content: "Ana's quotation is the administrator's: My Quotations shows it",
            trigger: ".o_data_row:contains('Ana Readme') td[name=partner_id]",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name=action_confirm]",
            run: "click",
        },
        {
            trigger: ".o-mail-Message:contains('WhatsApp notification queued')",
        },
        {
            trigger: ".o_form_view button[name=action_view_delivery]",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name=button_validate]",
            run: "click",
        },
        {
            content: "Done, with no SMS dialog in the way",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains('Done')",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "The shipping update, in Ana's Portuguese, says nothing of a carrier it does not have",
            trigger: ".o-mail-Message:contains('WhatsApp notification queued'):contains('foi enviado'):not(:contains(' - '))",
        },
    ],
});

registry.category("web_tour.tours").add("whatsapp_helpdesk_readme_helpdesk_tour", {
    // Step 6: an agent's team gets the Portuguese customer; a complaint opens a ticket.
    url: "/odoo/whatsapp-workspace",
    steps: () => [
        {
            trigger: ".o_wa_tab[data-tab=team]",
            run: "click",
        },
        {
            content: "The Brazilian customer went to the Brasil team",
            trigger: ".o_wa_conversation:contains('Cliente Reclamação')",
            run: "click",
        },
        {
            trigger: ".o_wa_bubble.o_wa_in:contains('reclamação')",
        },
        {
            content: "The welcome answered in Portuguese",
            trigger: ".o_wa_bubble.o_wa_bot:contains('Olá! Obrigado por escrever')",
        },
        {
            content: "The complaint opened a ticket, shown beside the chat",
            trigger: ".o_wa_tickets a:contains('reclamação')",
        },
        {
            content: "The conversation speaks Portuguese",
            trigger: ".o_wa_thread_header:contains('pt_BR')",
        },
        {
            trigger: ".o_wa_claim",
            run: "click",
        },
        {
            content: "The conversation is the agent's now",
            trigger: ".o_wa_customer:not(:has(.o_wa_claim))",
        },
        {
            trigger: ".o_wa_input",
            run: "edit Olá! Sinto muito, vou resolver agora.",
        },
        {
            trigger: ".o_wa_send:enabled",
            run: "click",
        },
        {
            trigger: ".o_wa_bubble.o_wa_out:contains('Sinto muito') .o_wa_tick[data-state='queued']",
        },
    ],
});
