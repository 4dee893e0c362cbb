import { _t } from "@web/core/l10n/translation";
import { deserializeDateTime, formatDateTime } from "@web/core/l10n/dates";

/** "23 h 12 min" left of a customer service window ending at ``end`` (UTC string), or null. */
export function windowLeft(end, now) {
    if (!end) {
        return null;
    }
    const minutes = Math.floor((deserializeDateTime(end).toMillis() - now) / 60000);
    if (minutes <= 0) {
        return null;
    }
    const hours = Math.floor(minutes / 60);
    return hours ? _t("%(hours)s h %(minutes)s min", { hours, minutes: minutes % 60 }) : _t("%s min", minutes);
}

/** A message time as the thread shows it. */
export function shortTime(value) {
    if (!value) {
        return "";
    }
    const moment = deserializeDateTime(value);
    const today = moment.hasSame(luxon.DateTime.now(), "day");
    return today ? moment.toFormat("HH:mm") : formatDateTime(moment, { format: "dd/MM HH:mm" });
}
