import { Component, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { user } from "@web/core/user";
import { useService } from "@web/core/utils/hooks";

/** The customer beside the chat: who they are, what they bought and asked, and the actions. */
export class CustomerPanel extends Component {
    static template = "whatsapp_helpdesk.CustomerPanel";
    static props = ["workspace"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.notification = useService("notification");
        this.shared = useState(this.props.workspace.state);
        this.local = useState({ note: null, tagSearch: "", tagOptions: [], partnerSearch: "", partnerOptions: [] });
    }

    get workspace() {
        return this.props.workspace;
    }

    get customer() {
        return this.shared.customer;
    }

    get uid() {
        return user.userId;
    }

    get conversationId() {
        return this.workspace.state.activeId;
    }

    get place() {
        const partner = this.customer.partner;
        return [partner.city, partner.country].filter(Boolean).join(", ");
    }

    get languageSource() {
        return {
            agent: _t("Set by an agent"),
            words: _t("Told by the customer's words"),
            profile: _t("From the customer's profile"),
            country: _t("From the number's country"),
        }[this.customer.language_source];
    }

    get noteValue() {
        return this.local.note === null ? this.customer.partner.note : this.local.note;
    }

    async saveNote() {
        this.workspace.state.customer = await this.orm.call("whatsapp.workspace", "save_customer", [
            this.conversationId,
        ], { note: this.local.note });
        this.local.note = null;
        this.notification.add(_t("Notes saved."), { type: "success" });
    }

    /** Up to ``limit`` [id, name] of ``model`` matching what the agent typed. */
    async nameSearch(model, name, limit) {
        return name ? await this.orm.call(model, "name_search", [], { name, limit }) : [];
    }

    async searchTags(ev) {
        this.local.tagSearch = ev.target.value;
        this.local.tagOptions = await this.nameSearch("res.partner.category", this.local.tagSearch, 8);
    }

    async setTags(ids) {
        this.workspace.state.customer = await this.orm.call("whatsapp.workspace", "save_customer", [
            this.conversationId,
        ], { tag_ids: ids });
        this.local.tagSearch = "";
        this.local.tagOptions = [];
    }

    addTag(option) {
        const ids = this.customer.partner.tags.map((t) => t.id);
        return this.setTags([...new Set([...ids, option[0]])]);
    }

    removeTag(tag) {
        return this.setTags(this.customer.partner.tags.filter((t) => t.id !== tag.id).map((t) => t.id));
    }

    async searchPartners(ev) {
        this.local.partnerSearch = ev.target.value;
        this.local.partnerOptions = await this.nameSearch("res.partner", this.local.partnerSearch, 6);
    }

    async setPartner(kwargs) {
        await this.orm.call("whatsapp.workspace", "set_partner", [this.conversationId], kwargs);
        await this.workspace.refreshAll();
    }

    linkPartner(option) {
        return this.setPartner({ partner_id: option[0] });
    }

    createPartner() {
        const name = this.local.partnerSearch || this.customer.profile_name || this.customer.phone;
        return this.setPartner({ name });
    }

    async setLanguage(ev) {
        await this.orm.call("whatsapp.workspace", "set_language", [
            this.conversationId,
            ev.target.value || false,
        ]);
        await this.workspace.refreshAll();
    }

    openRecord(model, id) {
        this.action.doAction({
            type: "ir.actions.act_window",
            res_model: model,
            res_id: id,
            views: [[false, "form"]],
        });
    }

    async claim() {
        await this.orm.call("whatsapp.conversation", "action_claim", [[this.conversationId]]);
        await this.workspace.refreshAll();
    }

    async close() {
        await this.orm.call("whatsapp.conversation", "action_close", [[this.conversationId]]);
        await this.workspace.refreshAll();
    }

    async reopen() {
        await this.orm.call("whatsapp.conversation", "action_reopen", [[this.conversationId]]);
        await this.workspace.refreshAll();
    }

    transfer() {
        this.action.doAction("whatsapp_helpdesk.whatsapp_transfer_action", {
            additionalContext: { active_id: this.conversationId, active_ids: [this.conversationId], active_model: "whatsapp.conversation" },
            onClose: () => this.workspace.refreshAll(),
        });
    }

    async createTicket() {
        const action = await this.orm.call("whatsapp.conversation", "action_create_ticket", [
            [this.conversationId],
        ]);
        await this.workspace.loadCustomer();
        this.action.doAction(action);
    }
}
