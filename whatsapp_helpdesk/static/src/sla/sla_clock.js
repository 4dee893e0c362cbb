import { Component, onMounted, onWillUnmount, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { standardFieldProps } from "@web/views/fields/standard_field_props";

const { DateTime } = luxon;

/** "2 h 05" / "45 min": the time to (or past) a deadline. */
export function formatMinutes(minutes) {
    const total = Math.abs(Math.round(minutes));
    if (total < 60) {
        return _t("%s min", total);
    }
    const hours = Math.floor(total / 60);
    return `${hours} h ${String(total % 60).padStart(2, "0")}`;
}

/**
 * The time left before a service-level deadline, green, then amber once the server's warning
 * moment (a quarter of the target left, whatsapp_sla_warn_at) has passed, then red and counting
 * how late. The colours are decided by the two moments the server stored; the clock only ticks.
 */
export class SlaClock extends Component {
    static template = "whatsapp_helpdesk.SlaClock";
    static props = { ...standardFieldProps };

    setup() {
        this.state = useState({ now: DateTime.now() });
        let timer;
        onMounted(() => {
            timer = setInterval(() => (this.state.now = DateTime.now()), 30000);
        });
        onWillUnmount(() => clearInterval(timer));
    }

    get due() {
        return this.props.record.data[this.props.name];
    }

    get light() {
        const warn = this.props.record.data.whatsapp_sla_warn_at;
        if (this.state.now >= this.due) {
            return "red";
        }
        return warn && this.state.now >= warn ? "amber" : "green";
    }

    get badgeClass() {
        return { green: "text-bg-success", amber: "text-bg-warning", red: "text-bg-danger" }[
            this.light
        ];
    }

    get title() {
        return this.due.toLocaleString(DateTime.DATETIME_SHORT);
    }

    get label() {
        const minutes = this.due.diff(this.state.now, "minutes").minutes;
        return minutes >= 0
            ? _t("%s left", formatMinutes(minutes))
            : _t("%s late", formatMinutes(minutes));
    }
}

registry.category("fields").add("whatsapp_sla_clock", {
    component: SlaClock,
    displayName: _t("Service-level clock"),
    supportedTypes: ["datetime"],
});
