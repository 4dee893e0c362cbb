import { registry } from "@web/core/registry";

/** The README's templates step, in the browser: a manager writes a template with two variables,
 * submits it, sees Meta's approval arrive without a reload, and sends it from a sales order to a
 * Brazilian customer: the Portuguese variant, with the amount in reais. */
registry.category("web_tour.tours").add("whatsapp_helpdesk_template_tour", {
    url: "/odoo/action-whatsapp_helpdesk.whatsapp_template_action",
    steps: () => [
        {
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=name] input",
            run: "edit pedido_pronto",
        },
        {
            trigger: ".o_field_widget[name=language] select",
            run: 'select "pt_BR"',
        },
        {
            content: "A body with two variables",
            trigger: ".o_field_widget[name=body] textarea",
            run: "edit Olá! Seu pedido {{1}} de {{2}} está pronto para retirada na loja.",
        },
        {
            trigger: ".o_notebook .nav-link:contains('Variables')",
            run: "click",
        },
        {
            content: "The variables follow the placeholders",
            trigger: ".o_field_widget[name=variable_ids] .o_data_row:eq(1)",
        },
        {
            trigger: ".o_field_widget[name=variable_ids] .o_data_row:eq(0) td[name=field_path]",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=variable_ids] .o_selected_row td[name=field_path] input",
            run: "edit name",
        },
        {
            trigger: ".o_field_widget[name=variable_ids] .o_selected_row td[name=sample] input",
            run: "edit S00042",
        },
        {
            trigger: ".o_field_widget[name=variable_ids] .o_data_row:eq(1) td[name=field_path]",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=variable_ids] .o_data_row:eq(1).o_selected_row td[name=field_path] input",
            run: "edit amount_total",
        },
        {
            trigger: ".o_field_widget[name=variable_ids] .o_selected_row td[name=sample] input",
            run: "edit R$ 1.234,56",
        },
        {
            content: "Save: the variables' placeholders are kept",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_saved",
        },
        {
            trigger: "button[name=action_submit]",
            run: "click",
        },
        {
            content: "Meta reviews it",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains('In Review')",
        },
        {
            content: "Meta's approval arrives without a reload",
            trigger: ".o_statusbar_status .o_arrow_button_current:contains('Approved')",
        },
        {
            content: "Go to the sales orders",
            trigger: ".o_main_navbar",
            run() {
                window.location.href = "/odoo/action-sale.action_orders";
            },
        },
        {
            trigger: ".o_searchview_input",
            run: "edit Ana Tour",
        },
        {
            trigger: ".o_searchview_input",
            run: "press Enter",
        },
        {
            trigger: ".o_data_row:contains('Ana Tour') td[name=partner_id]",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_statusbar_buttons button:contains('WhatsApp')",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=template_id] input",
            run: "edit pedido",
        },
        {
            content: "One choice per template, in the customer's language",
            trigger: ".o-autocomplete--dropdown-item:contains('pedido_pronto (pt_BR)')",
            run: "click",
        },
        {
            content: "The preview is this customer's, in reais",
            trigger: ".modal .o_field_widget[name=preview]:contains('R$ 1.234,56')",
        },
        {
            trigger: ".modal button[name=action_send]",
            run: "click",
        },
        {
            content: "The composer says it is on its way",
            trigger: ".o_notification:contains('leaving now')",
        },
    ],
});
