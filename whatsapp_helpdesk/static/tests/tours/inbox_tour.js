import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("whatsapp_helpdesk_inbox_tour", {
    url: "/odoo/action-whatsapp_helpdesk.whatsapp_conversation_action",
    steps: () => [
        {
            content: "Open the waiting conversation from the inbox",
            trigger: ".o_kanban_record:contains('Tour Customer')",
            run: "click",
        },
        {
            content: "Claim it",
            trigger: "button[name='action_claim']",
            run: "click",
        },
        {
            content: "The conversation is now ours",
            trigger: ".o_form_view:not(:has(button[name='action_claim']))",
        },
        {
            content: "Reply in the thread",
            trigger: ".o-mail-Chatter-sendMessage",
            run: "click",
        },
        {
            content: "The reply goes to the customer on WhatsApp, not to no one",
            trigger: ".o_wa_chatter_to:contains('on WhatsApp')",
        },
        {
            trigger: ".o-mail-Composer-input",
            run: "edit Olá! Posso ajudar?",
        },
        {
            trigger: ".o-mail-Composer-send:enabled",
            run: "click",
        },
        {
            content: "The reply shows in the thread, with its WhatsApp state",
            trigger: ".o-mail-Message:contains('Olá! Posso ajudar?') .o_wa_chatter_state[data-state=queued]",
        },
    ],
});
