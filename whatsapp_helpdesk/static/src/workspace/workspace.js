import { Component, onMounted, onWillStart, onWillUnmount, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { ConversationList } from "./conversation_list";
import { CustomerPanel } from "./customer_panel";
import { Thread } from "./thread";

/**
 * The agents' WhatsApp workspace: the conversation list on the left, the chat in the centre,
 * the customer on the right. Everything comes from whatsapp.workspace (models/whatsapp_workspace.py)
 * with the agent's rights, and stays live over Odoo's bus: "whatsapp_helpdesk/inbox" (a
 * conversation moved) and "whatsapp_helpdesk/messages" (messages added or their ticks moved).
 * On a phone-sized screen one pane shows at a time.
 */
export class Workspace extends Component {
    static template = "whatsapp_helpdesk.Workspace";
    static components = { ConversationList, Thread, CustomerPanel };
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.bus = useService("bus_service");
        this.notification = useService("notification");
        this.ui = useService("ui");
        this.state = useState({
            tab: "mine",
            search: "",
            conversations: [],
            unread: {},
            activeId: null,
            thread: null,
            customer: null,
            pane: "list",
            now: Date.now(),
            loadingOlder: false,
        });
        this.timers = {};
        const params = this.props.action?.params || {};
        const context = this.props.action?.context || {};
        const initialId = params.conversation_id || context.active_id;
        onWillStart(async () => {
            await this.loadList();
            if (!this.state.conversations.length && this.state.tab === "mine") {
                this.state.tab = "all";
                await this.loadList();
            }
            if (initialId) {
                await this.open(initialId);
            }
        });
        this.onInbox = (payload) => this.onServerChange(payload.conversation_ids || [], []);
        this.onMessages = (payload) =>
            this.onServerChange(payload.conversation_ids || [], payload.messages || []);
        this.bus.subscribe("whatsapp_helpdesk/inbox", this.onInbox);
        this.bus.subscribe("whatsapp_helpdesk/messages", this.onMessages);
        onMounted(() => {
            // the window countdowns move by themselves
            this.clock = setInterval(() => (this.state.now = Date.now()), 30000);
        });
        onWillUnmount(() => {
            this.bus.unsubscribe("whatsapp_helpdesk/inbox", this.onInbox);
            this.bus.unsubscribe("whatsapp_helpdesk/messages", this.onMessages);
            clearInterval(this.clock);
            Object.values(this.timers).forEach(clearTimeout);
        });
    }

    get isSmall() {
        return this.ui.isSmall;
    }

    // -- server ------------------------------------------------------------------------------

    async loadList() {
        const result = await this.orm.call("whatsapp.workspace", "load_conversations", [], {
            tab: this.state.tab,
            search: this.state.search,
        });
        this.state.conversations = result.conversations;
        this.state.unread = result.unread;
    }

    async open(conversationId) {
        const thread = await this.orm.call("whatsapp.workspace", "load_thread", [conversationId]);
        this.state.activeId = conversationId;
        this.state.thread = thread;
        this.state.pane = "thread";
        await this.orm.call("whatsapp.conversation", "action_mark_seen", [[conversationId]]);
        const card = this.state.conversations.find((c) => c.id === conversationId);
        if (card) {
            card.unread = 0;
        }
        await this.loadCustomer();
    }

    async loadCustomer() {
        if (!this.state.activeId) {
            return;
        }
        this.state.customer = await this.orm.call("whatsapp.workspace", "load_customer", [
            this.state.activeId,
        ]);
    }

    async reloadThread() {
        if (!this.state.activeId) {
            return;
        }
        const thread = await this.orm.call("whatsapp.workspace", "load_thread", [
            this.state.activeId,
        ]);
        const older = this.state.thread?.messages.filter(
            (m) => thread.messages.length && m.id < thread.messages[0].id
        );
        thread.messages = [...(older || []), ...thread.messages];
        thread.has_more = older?.length ? this.state.thread.has_more : thread.has_more;
        this.state.thread = thread;
    }

    async loadOlder() {
        const thread = this.state.thread;
        if (!thread?.has_more || this.state.loadingOlder || !thread.messages.length) {
            return;
        }
        this.state.loadingOlder = true;
        try {
            const page = await this.orm.call("whatsapp.workspace", "load_thread", [
                this.state.activeId,
            ], { before_id: thread.messages[0].id });
            thread.messages = [...page.messages, ...thread.messages];
            thread.has_more = page.has_more;
        } finally {
            this.state.loadingOlder = false;
        }
    }

    /** Coalesce bursts of notices: one reload per pane at most every 300 ms. */
    later(key, fn) {
        clearTimeout(this.timers[key]);
        this.timers[key] = setTimeout(fn, 300);
    }

    onServerChange(conversationIds, messages) {
        this.later("list", () => this.loadList());
        if (!this.state.activeId || !conversationIds.includes(this.state.activeId)) {
            return;
        }
        const known = new Set((this.state.thread?.messages || []).map((m) => m.id));
        const fresh = messages.filter((m) => !known.has(m.id));
        if (!messages.length || fresh.length) {
            this.later("thread", async () => {
                // a new message may have opened a ticket or moved the conversation
                await Promise.all([this.reloadThread(), this.loadCustomer()]);
                if (this.state.pane === "thread" || !this.isSmall) {
                    await this.orm.call("whatsapp.conversation", "action_mark_seen", [
                        [this.state.activeId],
                    ]);
                }
            });
            return;
        }
        for (const update of messages) {
            const bubble = this.state.thread.messages.find((m) => m.id === update.id);
            if (bubble && bubble.state !== update.state) {
                bubble.state = update.state;
                if (update.state === "failed") {
                    this.later("thread", () => this.reloadThread());
                }
            }
        }
    }

    // -- actions of the children ---------------------------------------------------------------

    async setTab(tab) {
        this.state.tab = tab;
        await this.loadList();
    }

    async setSearch(search) {
        this.state.search = search;
        this.later("search", () => this.loadList());
    }

    appendSent(bubbles) {
        const known = new Set(this.state.thread.messages.map((m) => m.id));
        this.state.thread.messages.push(...bubbles.filter((b) => !known.has(b.id)));
    }

    async refreshAll() {
        await Promise.all([this.loadList(), this.reloadThread(), this.loadCustomer()]);
    }

    showPane(pane) {
        this.state.pane = pane;
    }
}

registry.category("actions").add("whatsapp_helpdesk.workspace", Workspace);
