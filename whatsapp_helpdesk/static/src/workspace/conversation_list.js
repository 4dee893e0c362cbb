import { Component, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { shortTime, windowLeft } from "./time";

export class ConversationList extends Component {
    static template = "whatsapp_helpdesk.ConversationList";
    static props = ["workspace"];

    setup() {
        // the workspace's state, read here: this list renders again when it changes
        this.shared = useState(this.props.workspace.state);
    }

    get tabs() {
        return [
            { key: "mine", label: _t("Mine") },
            { key: "unassigned", label: _t("Unassigned") },
            { key: "team", label: _t("My team") },
            { key: "all", label: _t("All") },
        ];
    }

    get state() {
        return this.shared;
    }

    windowLeft(conversation) {
        return windowLeft(conversation.window_end, this.state.now);
    }

    shortTime(value) {
        return shortTime(value);
    }
}
