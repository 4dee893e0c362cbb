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
        self.chat_live(agent)

    def test_the_administrator_chats_live(self):
        self.chat_live(self.env.ref("base.user_admin"))

    def chat_live(self, agent):
        self.env["res.lang"]._activate_lang("pt_BR")
        for language, body in (
            ("en_US", "Hello {{1}}, can we help?"),
            ("pt_BR", "Olá {{1}}, podemos ajudar?"),
        ):
            template = self.approved_template("boas_vindas", body, language=language)
            template.variable_ids.write({"field_path": "name", "sample": "Ana"})
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

        def outbox(env):
            return env["whatsapp.message"].search(
                [
                    ("conversation_id", "=", conversation.id),
                    ("direction", "=", "out"),
                    ("message_type", "!=", "template"),
                ]
            )

        def both_queued(env):
            return len(outbox(env)) == 2

        def meta_sends_and_the_customer_reads(env):
            sent = outbox(env)
            wamids = iter(range(10))

            def meta(_method, path, _kwargs):
                if path.endswith("/media"):
                    return {"id": "media-1"}
                return self.sent_answer(f"wamid.TOUR{next(wamids)}")

            with self.mock_cloud_api(meta):
                env["whatsapp.message"]._cron_send()
            for state in ("delivered", "read"):
                self.deliver(
                    self.statuses(*[payloads.status(m.wamid, state, WA_ID) for m in sent]), env
                )

        with self.while_touring(
            (opened, customer_writes), (both_queued, meta_sends_and_the_customer_reads)
        ):
            self.start_tour(
                "/odoo/whatsapp-workspace", "whatsapp_helpdesk_workspace_tour", login=agent.login
            )
        sent = conversation.whatsapp_message_ids.filtered(lambda m: m.direction == "out")
        self.assertEqual(sorted(sent.mapped("message_type")), ["image", "template", "text"])
        self.assertEqual(
            set(sent.filtered(lambda m: m.message_type != "template").mapped("state")), {"read"}
        )
        self.assertEqual(sent.filtered("template_id").template_id.language, "pt_BR")
