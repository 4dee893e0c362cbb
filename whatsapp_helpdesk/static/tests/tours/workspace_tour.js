import { registry } from "@web/core/registry";

/** A file chosen in the composer's file picker, as a person would. */
function chooseFile(name, type, content) {
    const input = document.querySelector(".o_wa_file_input");
    const transfer = new DataTransfer();
    transfer.items.add(new File([content], name, { type }));
    input.files = transfer.files;
    input.dispatchEvent(new Event("change", { bubbles: true }));
}

registry.category("web_tour.tours").add("whatsapp_helpdesk_workspace_tour", {
    url: "/odoo/whatsapp-workspace",
    steps: () => [
        {
            content: "The agent's conversation is in the list, with its unread badge",
            trigger: ".o_wa_conversation:contains('Tour Customer') .o_wa_unread",
        },
        {
            content: "Open it",
            trigger: ".o_wa_conversation:contains('Tour Customer')",
            run: "click",
        },
        {
            content: "The customer's message shows as a bubble",
            trigger: ".o_wa_bubble.o_wa_in:contains('Preciso de ajuda')",
        },
        {
            content: "The customer writes again: it arrives without a reload",
            trigger: ".o_wa_bubble.o_wa_in:contains('Chegou meu pedido?')",
        },
        {
            content: "Type / for the quick replies",
            trigger: ".o_wa_input",
            run: "edit /obr",
        },
        {
            trigger: ".o_wa_quick_reply:contains('/obrigado')",
            run: "click",
        },
        {
            content: "The quick reply is filled in for this customer",
            trigger: ".o_wa_input:value(Obrigado, Tour!)",
        },
        {
            content: "Enter sends",
            trigger: ".o_wa_input",
            run: "press Enter",
        },
        {
            content: "The reply is queued: a clock until Meta answers",
            trigger: ".o_wa_bubble.o_wa_out:contains('Obrigado, Tour!') .o_wa_tick[data-state='queued']",
        },
        {
            content: "Attach a picture",
            trigger: ".o_wa_attach:enabled",
            run() {
                chooseFile("foto.png", "image/png", "\x89PNG\r\n\x1a\n0000");
            },
        },
        {
            content: "It goes as WhatsApp media",
            trigger: ".o_wa_bubble.o_wa_out img.o_wa_image",
        },
        {
            content: "Delivered, then read: the ticks move without a reload",
            trigger: ".o_wa_bubble.o_wa_out:contains('Obrigado, Tour!') .o_wa_tick[data-state='read']",
        },
        {
            trigger: ".o_wa_bubble.o_wa_out:has(img) .o_wa_tick[data-state='read']",
        },
        {
            content: "The list shows the reply as the last message",
            trigger: ".o_wa_conversation:contains('Tour Customer') .o_wa_preview:contains('foto.png')",
        },
        {
            content: "Templates: each language variant, previewed for this customer",
            trigger: ".o_wa_templates_btn",
            run: "click",
        },
        {
            content: "The customer's language (told by their words) comes first",
            trigger: ".o_wa_template_option[data-language=pt_BR]:contains('the customer') .o_wa_template_preview:contains('Olá Tour Customer')",
        },
        {
            trigger: ".o_wa_template_option[data-language=pt_BR] .o_wa_send_template",
            run: "click",
        },
        {
            trigger: ".o_wa_bubble.o_wa_out .o_wa_template:contains('boas_vindas')",
        },
    ],
});
