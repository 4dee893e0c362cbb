import { Component, useRef, useState } from "@odoo/owl";
import { useEmojiPicker } from "@web/core/emoji_picker/emoji_picker";
import { deserializeDateTime } from "@web/core/l10n/dates";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";

/**
 * Writing to the customer: text (Enter sends, Shift+Enter starts a line), quick replies ("/"
 * lists Odoo's canned responses), files (sent as WhatsApp media, within Meta's limits), emoji,
 * and approved templates (the only thing allowed once the 24-hour window closed), each language
 * variant previewed with this customer's values.
 */
export class Composer extends Component {
    static template = "whatsapp_helpdesk.Composer";
    static props = ["workspace", "replyTo", "clearReply"];

    setup() {
        this.orm = useService("orm");
        this.notification = useService("notification");
        this.input = useRef("input");
        this.fileInput = useRef("file");
        this.emojiButton = useRef("emoji");
        this.local = useState({
            text: "",
            sending: false,
            quickReplies: [],
            quickIndex: 0,
            templates: null,
        });
        this.shared = useState(this.props.workspace.state);
        this.quickRequest = 0;
        useEmojiPicker(this.emojiButton, { onSelect: (emoji) => this.insert(emoji) });
    }

    get workspace() {
        return this.props.workspace;
    }

    get thread() {
        return this.shared.thread;
    }

    get windowOpen() {
        const end = this.thread.conversation.window_end;
        return Boolean(end) && deserializeDateTime(end).toMillis() > this.shared.now;
    }

    get blocked() {
        return this.thread.can_reply === true ? false : this.thread.can_reply;
    }

    insert(text) {
        const el = this.input.el;
        const start = el ? el.selectionStart : this.local.text.length;
        const end = el ? el.selectionEnd : this.local.text.length;
        this.local.text = this.local.text.slice(0, start) + text + this.local.text.slice(end);
    }

    async onInput(ev) {
        this.local.text = ev.target.value;
        const match = /^\/(\S*)$/.exec(this.local.text);
        // only the answer to the latest keystroke counts, and only while "/..." is still typed
        const request = ++this.quickRequest;
        if (!match) {
            this.local.quickReplies = [];
            return;
        }
        const replies = await this.orm.call("whatsapp.workspace", "canned_responses", [
            this.shared.activeId,
        ], { search: match[1] });
        if (request === this.quickRequest && /^\/\S*$/.test(this.local.text)) {
            this.local.quickReplies = replies;
            this.local.quickIndex = 0;
        }
    }

    pickQuickReply(reply) {
        this.quickRequest++;
        this.local.text = reply.text;
        this.local.quickReplies = [];
        this.input.el?.focus();
    }

    onKeydown(ev) {
        const replies = this.local.quickReplies;
        if (replies.length && ["ArrowDown", "ArrowUp", "Tab"].includes(ev.key)) {
            ev.preventDefault();
            const step = ev.key === "ArrowUp" ? -1 : 1;
            this.local.quickIndex = (this.local.quickIndex + step + replies.length) % replies.length;
            return;
        }
        if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
            ev.preventDefault();
            if (replies.length) {
                this.pickQuickReply(replies[this.local.quickIndex]);
            } else {
                this.send();
            }
        } else if (ev.key === "Escape") {
            this.local.quickReplies = [];
            this.props.clearReply();
        }
    }

    async run(method, args, kwargs = {}) {
        this.local.sending = true;
        try {
            const bubbles = await this.orm.call("whatsapp.workspace", method, args, kwargs);
            this.workspace.appendSent(bubbles);
            this.workspace.later("list", () => this.workspace.loadList());
            return true;
        } finally {
            this.local.sending = false;
        }
    }

    async send() {
        const text = this.local.text.trim();
        if (!text || this.local.sending) {
            return;
        }
        const replyTo = this.props.replyTo?.id || null;
        if (await this.run("send_text", [this.workspace.state.activeId, text], { reply_to_id: replyTo })) {
            this.local.text = "";
            this.props.clearReply();
        }
    }

    pickFile() {
        this.fileInput.el.click();
    }

    async onFile(ev) {
        const file = ev.target.files[0];
        ev.target.value = "";
        if (!file) {
            return;
        }
        const data = await new Promise((resolve, reject) => {
            const reader = new FileReader();
            reader.onload = () => resolve(reader.result.split(",")[1] || "");
            reader.onerror = reject;
            reader.readAsDataURL(file);
        });
        const caption = this.local.text.trim();
        const sent = await this.run("send_file", [
            this.workspace.state.activeId,
            file.name,
            file.type || "application/octet-stream",
            data,
        ], { caption });
        if (sent) {
            this.local.text = "";
        }
    }

    async toggleTemplates() {
        if (this.local.templates) {
            this.local.templates = null;
            return;
        }
        this.local.templates = await this.orm.call("whatsapp.workspace", "template_options", [
            this.workspace.state.activeId,
        ]);
    }

    async sendTemplate(option) {
        if (await this.run("send_template", [this.workspace.state.activeId, option.id])) {
            this.local.templates = null;
            this.notification.add(_t("Template %s queued: leaving now.", option.name), {
                type: "success",
            });
        }
    }
}
