import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("whatsapp_helpdesk_campaign_tour", {
    url: "/odoo/action-whatsapp_helpdesk.whatsapp_segment_action",
    steps: () => [
        {
            content: "Build a segment",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=name] input",
            run: "edit Tour VIPs",
        },
        {
            content: "Customers with the tag",
            trigger: ".o_field_widget[name=tag_any_ids] input",
            run: "edit TourVIP",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains('TourVIP')",
            run: "click",
        },
        {
            content: "The live count shows the two tagged customers",
            trigger: "button[name=action_open_partners] .o_stat_value:contains('2')",
        },
        {
            content: "The preview tells who is in",
            trigger: ".o_wa_segment_in:contains('Tour Ana')",
        },
        {
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_saved",
        },
        {
            content: "Go to the campaigns",
            trigger: ".o_menu_sections button:contains('Marketing')",
            run: "click",
        },
        {
            trigger: ".dropdown-item:contains('Campaigns')",
            run: "click",
        },
        {
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=name] input",
            run: "edit Tour promo",
        },
        {
            trigger: ".o_field_widget[name=template_id] input",
            run: "edit tour_promo",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains('tour_promo')",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=segment_id] input",
            run: "edit Tour VIPs",
        },
        {
            trigger: ".o-autocomplete--dropdown-item:contains('Tour VIPs')",
            run: "click",
        },
        {
            content: "The plan and the price show before launching",
            trigger: ".o_wa_campaign_plan:contains('Messaging limit')",
        },
        {
            trigger: ".o_wa_campaign_estimate:contains('marketing messages')",
        },
        {
            content: "Check the audience before launching",
            trigger: "button[name=action_check_audience]",
            run: "click",
        },
        {
            trigger: ".o_wa_campaign_audience_check:contains('2 to send, 0 skipped')",
        },
        {
            content: "Launch",
            trigger: "button[name=action_launch]",
            run: "click",
        },
        {
            content: "The campaign runs: its recipients and its progress show",
            trigger: "button[name=action_open_recipients] .o_stat_value:contains('2')",
        },
        {
            trigger: ".o_wa_campaign_progress",
        },
        {
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Running')",
        },
        {
            content: "Nothing sent yet",
            trigger: ".o_wa_campaign_progress .o_progress[aria-valuenow='0']",
        },
        {
            content: "Meta sends the messages: the progress moves without a reload",
            trigger: ".o_wa_campaign_progress .o_progress[aria-valuenow='100']",
            timeout: 30000,
        },
        {
            trigger: ".o_wa_campaign_sent:contains('2')",
        },
        {
            content: "A finished campaign stops following itself",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Done')",
            timeout: 30000,
        },
    ],
});
