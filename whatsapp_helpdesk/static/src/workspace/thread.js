import { Component, onPatched, useRef, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { Composer } from "./composer";
import { shortTime, windowLeft } from "./time";

const TICKS = {
    queued: { icon: "fa-clock-o", label: _t("Queued: leaving now") },
    sending: { icon: "fa-clock-o", label: _t("Sending") },
    sent: { icon: "fa-check", label: _t("Sent") },
    delivered: { icon: "fa-check o_wa_double", label: _t("Delivered") },
    read: { icon: "fa-check o_wa_double o_wa_read", label: _t("Read") },
    failed: { icon: "fa-exclamation-circle text-danger", label: _t("Failed") },
    unknown: { icon: "fa-question-circle text-warning", label: _t("Outcome unknown") },
    skipped: { icon: "fa-ban text-muted", label: _t("Skipped") },
    canceled: { icon: "fa-ban text-muted", label: _t("Canceled") },
};

export class Thread extends Component {
    static template = "whatsapp_helpdesk.Thread";
    static components = { Composer };
    static props = ["workspace"];

    setup() {
        this.scroller = useRef("scroller");
        this.local = useState({ replyTo: null });
        // the workspace's state, read here: the thread renders again when it changes
        this.shared = useState(this.props.workspace.state);
        this.lastBottomId = null;
        onPatched(() => this.keepScroll());
    }

    get state() {
        return this.shared;
    }

    get thread() {
        return this.state.thread;
    }

    get windowLeft() {
        return windowLeft(this.thread.conversation.window_end, this.state.now);
    }

    tick(message) {
        return TICKS[message.state] || TICKS.queued;
    }

    shortTime(value) {
        return shortTime(value);
    }

    mediaKind(message) {
        const mimetype = message.attachment?.mimetype || "";
        if (mimetype.startsWith("image/")) {
            return "image";
        }
        if (mimetype.startsWith("audio/")) {
            return "audio";
        }
        if (mimetype.startsWith("video/")) {
            return "video";
        }
        return message.attachment ? "document" : null;
    }

    /** Stay at the bottom when a new message comes; keep the place when history loads above. */
    keepScroll() {
        const el = this.scroller.el;
        const messages = this.thread?.messages || [];
        if (!el || !messages.length) {
            return;
        }
        const bottomId = messages[messages.length - 1].id;
        if (bottomId !== this.lastBottomId) {
            el.scrollTop = el.scrollHeight;
            this.lastBottomId = bottomId;
        }
    }

    onScroll(ev) {
        if (ev.target.scrollTop < 40) {
            const before = ev.target.scrollHeight;
            this.props.workspace.loadOlder().then(() => {
                const el = this.scroller.el;
                if (el) {
                    el.scrollTop = el.scrollHeight - before;
                }
            });
        }
    }

    reply(message) {
        this.local.replyTo = message;
    }
}
