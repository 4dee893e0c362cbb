import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("whatsapp_helpdesk_report_tour", {
    url: "/odoo/action-whatsapp_helpdesk.whatsapp_dashboard_action",
    steps: () => [
        {
            content: "The dashboard shows this week's requests",
            trigger: ".o_whatsapp_tile_conversations .o_whatsapp_tile_value:contains('2')",
        },
        {
            content: "and what is late now",
            trigger: ".o_whatsapp_live_late .fs-3:contains('1')",
        },
        {
            content: "Look at the last 30 days",
            trigger: ".o_whatsapp_dashboard_period button[data-period='30']",
            run: "click",
        },
        {
            trigger: ".o_whatsapp_dashboard_period button.btn-primary[data-period='30']",
        },
        {
            content: "Three requests in 30 days, the per-agent table below",
            trigger: ".o_whatsapp_tile_conversations .o_whatsapp_tile_value:contains('3')",
        },
        {
            trigger: ".o_whatsapp_dashboard_agents td:contains('Tour Agent')",
        },
        {
            content: "Open the first response figures behind the tile",
            trigger: ".o_whatsapp_tile_first_response_median",
            run: "click",
        },
        {
            content: "A pivot of the requests with their median first response",
            trigger: ".o_pivot th:contains('First Response (h, median)')",
        },
        {
            trigger: ".o_pivot .o_pivot_cell_value:contains('2.00')",
        },
        {
            content: "Back to the dashboard",
            trigger: ".breadcrumb-item a:contains('WhatsApp Dashboard')",
            run: "click",
        },
        {
            content: "Open the late conversations",
            trigger: ".o_whatsapp_live_late",
            run: "click",
        },
        {
            content: "The inbox card says how late the customer's first answer is, in red",
            trigger: ".o_kanban_record .o_whatsapp_sla_clock.o_whatsapp_sla_red:contains('late')",
        },
    ],
});
