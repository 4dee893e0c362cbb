/** @odoo-module **/

import publicWidget from "@web/legacy/js/public/public_widget";

/**
 * The WhatsApp building block is saved in the page's HTML: its link cannot hold the page, the
 * visit's campaign nor the website's number. The server renders that link on every page (the
 * floating button's data-link); the block takes it when shown and again when clicked.
 */
publicWidget.registry.WhatsappHelpdeskBlock = publicWidget.Widget.extend({
    selector: ".o_whatsapp_helpdesk_block",
    disabledInEditableMode: false,
    events: { click: "_onClick" },

    start() {
        this._applyLink();
        return this._super(...arguments);
    },

    _pageLink() {
        const holder = document.getElementById("o_whatsapp_helpdesk_button");
        return holder ? holder.dataset.link : "";
    },

    _applyLink() {
        const link = this._pageLink();
        if (link) {
            this.el.setAttribute("href", link);
            this.el.classList.remove("d-none");
        } else if (!this.editableMode) {
            // no number on this website (or outside opening hours with "hide")
            this.el.classList.add("d-none");
        }
    },

    _onClick(ev) {
        if (this.editableMode) {
            ev.preventDefault();
            return;
        }
        this._applyLink();
    },
});
