import { onWillUnmount } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { KanbanController } from "@web/views/kanban/kanban_controller";
import { kanbanView } from "@web/views/kanban/kanban_view";
import { ListController } from "@web/views/list/list_controller";
import { listView } from "@web/views/list/list_view";

/**
 * The inbox reloads itself when the server says one of its conversations changed (a customer
 * wrote, a conversation was assigned), so agents see new messages without reloading the page.
 */
function useInboxRefresh(controller) {
    const busService = useService("bus_service");
    const refresh = () => controller.model.load();
    busService.subscribe("whatsapp_helpdesk/inbox", refresh);
    busService.subscribe("whatsapp_helpdesk/messages", refresh);
    onWillUnmount(() => {
        busService.unsubscribe("whatsapp_helpdesk/inbox", refresh);
        busService.unsubscribe("whatsapp_helpdesk/messages", refresh);
    });
}

export class WhatsappInboxKanbanController extends KanbanController {
    setup() {
        super.setup();
        useInboxRefresh(this);
    }
}

export class WhatsappInboxListController extends ListController {
    setup() {
        super.setup();
        useInboxRefresh(this);
    }
}

registry.category("views").add("whatsapp_inbox_kanban", {
    ...kanbanView,
    Controller: WhatsappInboxKanbanController,
});
registry.category("views").add("whatsapp_inbox_list", {
    ...listView,
    Controller: WhatsappInboxListController,
});
