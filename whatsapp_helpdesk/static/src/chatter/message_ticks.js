import { Message } from "@mail/core/common/message_model";
import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";

/** A chatter message that goes out on WhatsApp carries its delivery state (see
 * models/mail_message.py): the thread shows WhatsApp's ticks, or why it failed. */
const LABELS = {
    queued: _t("WhatsApp: queued, leaving now"),
    sending: _t("WhatsApp: sending"),
    sent: _t("WhatsApp: sent"),
    delivered: _t("WhatsApp: delivered"),
    read: _t("WhatsApp: read"),
    failed: _t("WhatsApp: failed"),
    unknown: _t("WhatsApp: outcome unknown"),
    skipped: _t("WhatsApp: skipped"),
    canceled: _t("WhatsApp: canceled"),
};

patch(Message.prototype, {
    setup() {
        super.setup(...arguments);
        this.whatsapp_state = undefined;
        this.whatsapp_failure = undefined;
    },
    get whatsappLabel() {
        const label = LABELS[this.whatsapp_state] || "";
        return this.whatsapp_failure ? `${label}: ${this.whatsapp_failure}` : label;
    },
});
