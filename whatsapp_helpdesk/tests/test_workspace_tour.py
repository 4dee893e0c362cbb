from odoo.tests import HttpCase, new_test_user, tagged

from ..tools import payloads
from .common import LiveTourCase

WA_ID = "5511966661111"


@tagged("post_install", "-at_install")
class TestWorkspaceTour(LiveTourCase, HttpCase):
    """An agent (not an administrator) works in the chat workspace while Meta's side happens
    live: a customer writes, the outbox sends, statuses come back."""

    def test_an_agent_chats_live(self):
        agent = new_test_user(
            self.env,
            login="tour_agent",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_user",
        )
        self.env["mail.canned.response"].with_user(agent).create(
            {"source": "obrigado", "substitution": "Obrigado, {first_name}!"}
        )
        self.env["res.partner"].create({"name": "Tour Customer", "mobile": f"+{WA_ID}"})
        self.deliver(self.inbound(WA_ID, payloads.text_message(WA_ID, "Preciso de ajuda")))
        conversation = self.env["whatsapp.conversation"].search([("wa_id", "=", WA_ID)])
        conversation.user_id = agent

        def opened(env):
            return not env["whatsapp.conversation"].browse(conversation.id).unread_count

        def customer_writes(env):
            self.deliver(
                self.inbound(WA_ID, payloads.text_message(WA_ID, "Chegou meu pedido?")), env
            )

        def both_queued(env):
            outbox = env["whatsapp.message"].search(
                [("conversation_id", "=", conversation.id), ("direction", "=", "out")]
            )
            return len(outbox) == 2

        def meta_sends_and_the_customer_reads(env):
            outbox = env["whatsapp.message"].search(
                [("conversation_id", "=", conversation.id), ("direction", "=", "out")]
            )
            wamids = iter(range(10))

            def meta(_method, path, _kwargs):
                if path.endswith("/media"):
                    return {"id": "media-1"}
                return self.sent_answer(f"wamid.TOUR{next(wamids)}")

            with self.mock_cloud_api(meta):
                env["whatsapp.message"]._cron_send()
            for state in ("delivered", "read"):
                self.deliver(
                    self.statuses(*[payloads.status(m.wamid, state, WA_ID) for m in outbox]), env
                )

        with self.while_touring(
            (opened, customer_writes), (both_queued, meta_sends_and_the_customer_reads)
        ):
            self.start_tour(
                "/odoo/whatsapp-workspace", "whatsapp_helpdesk_workspace_tour", login="tour_agent"
            )
        sent = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out")
        self.assertEqual(sorted(sent.mapped("message_type")), ["image", "text"])
        self.assertEqual(set(sent.mapped("state")), {"read"})
