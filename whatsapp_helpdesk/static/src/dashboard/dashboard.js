import { Component, onWillStart, onWillUnmount, useEffect, useRef, useState } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

const WEEKDAYS = [_t("Mon"), _t("Tue"), _t("Wed"), _t("Thu"), _t("Fri"), _t("Sat"), _t("Sun")];

/**
 * The WhatsApp dashboard: the headline figures of the last 7 or 30 days (tiles, with the
 * period before), the open conversations now, requests and first response per day, when
 * customers write (weekday x hour), and per agent for managers. Every figure comes computed
 * from the server (whatsapp.dashboard.get_data); a tile opens the report behind it.
 */
export class WhatsappDashboard extends Component {
    static template = "whatsapp_helpdesk.Dashboard";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ period: 7, data: null });
        this.chartRef = useRef("chart");
        this.chart = null;
        this.weekdays = WEEKDAYS;
        this.hours = [...Array(24).keys()];
        onWillStart(async () => {
            await loadBundle("web.chartjs_lib");
            await this.load(7);
        });
        useEffect(
            () => this.renderChart(),
            () => [this.state.data]
        );
        onWillUnmount(() => this.chart?.destroy());
    }

    async load(period) {
        const data = await this.orm.call("whatsapp.dashboard", "get_data", [], { period });
        this.state.period = period;
        this.state.data = data;
    }

    open(item) {
        this.action.doAction(item.action, { additionalContext: item.context || {} });
    }

    trendClass(tile) {
        if (tile.good === null) {
            return "text-muted";
        }
        return tile.good ? "text-success" : "text-danger";
    }

    /** Cells of the heat map: the share of the busiest hour, 0 to 1. */
    get subtitle() {
        const data = this.state.data;
        return data.scope === "all"
            ? _t("Every team, the last %(days)s days compared with the %(days)s days before", {
                  days: data.period,
              })
            : _t("Your own figures, the last %(days)s days compared with the %(days)s days before", {
                  days: data.period,
              });
    }

    get heat() {
        const cells = {};
        let max = 0;
        for (const [weekday, hour, count] of this.state.data?.heatmap || []) {
            cells[`${weekday}-${hour}`] = count;
            max = Math.max(max, count);
        }
        return { cells, max };
    }

    heatStyle(weekday, hour) {
        const { cells, max } = this.heat;
        const count = cells[`${weekday}-${hour}`] || 0;
        const alpha = max ? (0.08 + (0.92 * count) / max).toFixed(2) : 0;
        return `background-color: rgba(37, 211, 102, ${count ? alpha : 0});`;
    }

    heatTitle(weekday, hour) {
        const count = this.heat.cells[`${weekday}-${hour}`] || 0;
        return `${this.weekdays[weekday]} ${hour}:00 · ${count}`;
    }

    renderChart() {
        const canvas = this.chartRef.el;
        const daily = this.state.data?.daily;
        if (!canvas || !daily) {
            return;
        }
        this.chart?.destroy();
        this.chart = new Chart(canvas, {
            type: "bar",
            data: {
                labels: daily.map((day) => day.day),
                datasets: [
                    {
                        type: "bar",
                        label: _t("Requests"),
                        data: daily.map((day) => day.conversations),
                        backgroundColor: "rgba(37, 211, 102, 0.6)",
                        yAxisID: "y",
                    },
                    {
                        type: "line",
                        label: _t("First response, median (h)"),
                        data: daily.map((day) => day.first_response_median),
                        borderColor: "#075e54",
                        backgroundColor: "#075e54",
                        yAxisID: "hours",
                        spanGaps: true,
                    },
                ],
            },
            options: {
                maintainAspectRatio: false,
                animation: false,
                scales: {
                    y: { beginAtZero: true, position: "left" },
                    hours: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } },
                },
            },
        });
    }
}

registry.category("actions").add("whatsapp_helpdesk.dashboard", WhatsappDashboard);
