import { useEffect } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { patch } from "@web/core/utils/patch";
import { FormController } from "@web/views/form/form_controller";

/**
 * A running campaign's form follows its progress bar and funnel without a reload: it reads the
 * record again every few seconds while the campaign runs. A campaign's messages move by
 * thousands a second: a polite poll costs one read per open form every few seconds, whatever the
 * pace, and none at all for a draft, a paused or a finished campaign. The next read waits for the
 * previous one; a hidden tab or a form with unsaved changes is left alone.
 */
export const CAMPAIGN_POLL_DELAY = 4000; // milliseconds

patch(FormController.prototype, {
    setup() {
        super.setup(...arguments);
        if (this.props.resModel !== "whatsapp.campaign") {
            return;
        }
        useEffect(
            (resId, state) => {
                if (!resId || state !== "running") {
                    return;
                }
                let timer = null;
                let stopped = false;
                const poll = async () => {
                    try {
                        const root = this.model.root;
                        if (!document.hidden && root?.resId === resId && !(await root.isDirty())) {
                            await this.model.load();
                        }
                    } catch {
                        // a lost read (the network, a server restart): the next one tries again
                    }
                    if (!stopped) {
                        timer = browser.setTimeout(poll, CAMPAIGN_POLL_DELAY);
                    }
                };
                timer = browser.setTimeout(poll, CAMPAIGN_POLL_DELAY);
                return () => {
                    stopped = true;
                    browser.clearTimeout(timer);
                };
            },
            () => [this.model.root?.resId, this.model.root?.data.state]
        );
    },
});
