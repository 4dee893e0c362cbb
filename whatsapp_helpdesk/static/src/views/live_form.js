import { onWillUnmount, useEffect } from "@odoo/owl";
import { useService } from "@web/core/utils/hooks";
import { patch } from "@web/core/utils/patch";
import { FormController } from "@web/views/form/form_controller";

/**
 * Forms showing WhatsApp state follow it live over Odoo's bus, without a reload: a contact's
 * WhatsApp tab and a conversation move with their messages' ticks and new messages, a template
 * with Meta's verdict. A form with unsaved changes is left alone.
 */
const LIVE = {
    "res.partner": { "whatsapp_helpdesk/messages": (payload) => payload.partner_ids },
    "whatsapp.conversation": {
        "whatsapp_helpdesk/messages": (payload) => payload.conversation_ids,
        "whatsapp_helpdesk/inbox": (payload) => payload.conversation_ids,
    },
    "whatsapp.template": { "whatsapp_helpdesk/templates": (payload) => payload.template_ids },
};

patch(FormController.prototype, {
    setup() {
        super.setup(...arguments);
        const live = LIVE[this.props.resModel];
        if (!live) {
            return;
        }
        const bus = useService("bus_service");
        const handlers = Object.entries(live).map(([type, concerned]) => {
            const handler = (payload) => this.whatsappReload(concerned(payload) || []);
            bus.subscribe(type, handler);
            return [type, handler];
        });
        onWillUnmount(() => handlers.forEach(([type, handler]) => bus.unsubscribe(type, handler)));
        if (this.props.resModel === "whatsapp.conversation") {
            // an agent opened the conversation: its unread badge goes
            const orm = useService("orm");
            useEffect(
                (resId) => {
                    if (resId) {
                        orm.call("whatsapp.conversation", "action_mark_seen", [[resId]]);
                    }
                },
                () => [this.model.root?.resId]
            );
        }
    },

    async whatsappReload(ids) {
        const root = this.model.root;
        if (!root?.resId || !ids.includes(root.resId) || (await root.isDirty())) {
            return;
        }
        clearTimeout(this.whatsappTimer);
        this.whatsappTimer = setTimeout(() => this.model.load(), 200);
    },
});
