from collections import Counter
from datetime import datetime, timedelta
from unittest.mock import patch

from markupsafe import Markup
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from ..tools import payloads
from .common import WhatsappCase


@tagged("post_install", "-at_install")
class TestInboxRouting(WhatsappCase, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        groups = ",".join(
            [
                "base.group_user",
                "whatsapp_helpdesk.group_whatsapp_user",
                "helpdesk_mgmt.group_helpdesk_user",
            ]
        )
        cls.ana, cls.bruno, cls.carla = (
            new_test_user(cls.env, login=login, groups=groups)
            for login in ("ag_ana", "ag_bruno", "ag_carla")
        )
        cls.env["res.lang"]._activate_lang("pt_BR")
        cls.env["res.lang"]._activate_lang("es_MX")
        Team = cls.env["helpdesk.ticket.team"]
        cls.team_pt = Team.create(
            {
                "name": "Brasil",
                "whatsapp_enabled": True,
                "whatsapp_languages": "pt_BR",
                "user_ids": [(6, 0, (cls.ana | cls.bruno).ids)],
            }
        )
        cls.team_es = Team.create(
            {
                "name": "México",
                "whatsapp_enabled": True,
                "whatsapp_languages": "es",
                "whatsapp_policy": "least_loaded",
                "whatsapp_capacity": 1,
                "user_ids": [(6, 0, cls.carla.ids)],
            }
        )
        for user in cls.ana | cls.bruno | cls.carla:
            cls.env["bus.presence"].create({"user_id": user.id, "status": "online"})

    def new_customers(self, count, prefix, lang):
        numbers = [f"{prefix}{index:04d}" for index in range(count)]
        Partner = self.env["res.partner"]
        for number in numbers:
            Partner.create({"name": number, "mobile": f"+{number}", "lang": lang})
        return numbers

    def deliver_from(self, numbers, text="Olá"):
        for number in numbers:
            self.intake(self.inbound(number, payloads.text_message(number, text)))
        self.env["whatsapp.webhook.event"]._cron_process()
        return self.env["whatsapp.conversation"].search([("wa_id", "in", numbers)])

    def test_round_robin_is_fair_over_100_conversations(self):
        conversations = self.deliver_from(self.new_customers(100, "55119770", "pt_BR"))
        self.assertEqual(len(conversations), 100)
        self.assertEqual(set(conversations.team_id), {self.team_pt})
        counts = Counter(conversations.mapped("user_id.login"))
        self.assertEqual(set(counts), {"ag_ana", "ag_bruno"})
        self.assertLessEqual(max(counts.values()) - min(counts.values()), 1)
        self.assertEqual(set(conversations.mapped("inbox_state")), {"open"})

    def test_offline_agents_get_nothing(self):
        self.env["bus.presence"].search([("user_id", "=", self.bruno.id)]).status = "offline"
        conversations = self.deliver_from(self.new_customers(5, "55119771", "pt_BR"))
        self.assertEqual(set(conversations.user_id), {self.ana})

    def test_capacity_cap_then_backlog_oldest_first(self):
        first, second = self.deliver_from(self.new_customers(2, "52155100", "es_MX")).sorted("id")
        self.assertEqual(first.user_id, self.carla)
        self.assertFalse(second.user_id, "Carla is at capacity: the second waits")
        self.assertEqual(second.team_id, self.team_es)
        self.assertEqual(second.inbox_state, "new")
        first.action_close()
        self.env["helpdesk.ticket.team"]._whatsapp_serve_backlog()
        self.assertEqual(second.user_id, self.carla)

    def test_claim_transfer_and_only_the_assignee_replies(self):
        self.team_pt.whatsapp_only_assignee = True
        conversation = self.deliver_from(self.new_customers(1, "55119772", "pt_BR"))
        owner = conversation.user_id
        other = (self.ana | self.bruno) - owner
        with self.assertRaisesRegex(UserError, "handling this conversation"):
            conversation.with_user(other).message_post(
                body=Markup("<p>me too</p>"),
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
        conversation.with_user(other).action_claim()
        self.assertEqual(conversation.user_id, other)
        conversation.with_user(other).message_post(
            body=Markup("<p>Oi!</p>"), message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        self.assertEqual(conversation.inbox_state, "waiting")
        self.assertEqual(conversation.unread_count, 0)

    def test_unread_counts_and_states(self):
        conversation = self.deliver_from(self.new_customers(1, "55119773", "pt_BR"))
        self.assertEqual(conversation.unread_count, 1)
        self.deliver_from([conversation.wa_id], text="alô?")
        self.assertEqual(conversation.unread_count, 2)
        self.assertEqual(conversation.inbox_state, "open")
        conversation.action_close()
        self.assertEqual(conversation.inbox_state, "resolved")

    def test_a_keyword_opens_a_ticket_for_the_team(self):
        self.team_pt.whatsapp_ticket_keywords = "reclamação, quebrado"
        conversation = self.deliver_from(self.new_customers(1, "55119774", "pt_BR"), text="Oi")
        self.assertFalse(conversation.ticket_ids)
        self.deliver_from([conversation.wa_id], text="Chegou quebrado!")
        ticket = conversation.ticket_ids
        self.assertEqual(len(ticket), 1)
        self.assertRecordValues(
            ticket, [{"team_id": self.team_pt.id, "user_id": conversation.user_id.id}]
        )
        self.deliver_from([conversation.wa_id], text="continua quebrado")
        self.assertEqual(len(conversation.ticket_ids), 1, "one open ticket is enough")

    def test_agents_only_see_their_teams_conversations(self):
        pt = self.deliver_from(self.new_customers(1, "55119775", "pt_BR"))
        es = self.deliver_from(self.new_customers(1, "52155101", "es_MX"))
        Conversation = self.env["whatsapp.conversation"]
        self.assertIn(pt, Conversation.with_user(self.ana).search([]))
        self.assertNotIn(es, Conversation.with_user(self.ana).search([]))
        self.assertNotIn(
            es.whatsapp_message_ids, self.env["whatsapp.message"].with_user(self.ana).search([])
        )
        manager = new_test_user(
            self.env,
            login="wa_boss",
            groups="base.group_user,whatsapp_helpdesk.group_whatsapp_manager",
        )
        self.assertIn(es, Conversation.with_user(manager).search([]))

    def test_service_levels_in_working_hours(self):
        self.team_pt.whatsapp_sla_first_response = 0.5
        conversation = self.deliver_from(self.new_customers(1, "55119776", "pt_BR"))
        self.assertTrue(conversation.first_inbound_at)
        two_hours_ago = conversation.service_started_at - timedelta(hours=2)
        conversation.write({"first_inbound_at": two_hours_ago, "service_started_at": two_hours_ago})
        conversation.with_user(conversation.user_id).message_post(
            body=Markup("<p>Desculpe a demora</p>"),
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
        )
        self.assertAlmostEqual(conversation.first_response_hours, 2.0, delta=0.05)
        self.assertTrue(conversation.sla_breached)
        conversation.action_close()
        self.assertGreaterEqual(conversation.resolution_hours, 2.0)

    def test_working_hours_calendar_counts_only_open_hours(self):
        calendar = self.env["resource.calendar"].create(
            {"name": "9-17", "tz": "UTC", "attendance_ids": [(5, 0, 0)]}
            | {
                "attendance_ids": [
                    (0, 0, {"name": f"d{d}", "dayofweek": str(d), "hour_from": 9, "hour_to": 17})
                    for d in range(7)
                ]
            }
        )
        self.team_pt.whatsapp_calendar_id = calendar
        start = datetime(2026, 3, 2, 16, 0)
        end = datetime(2026, 3, 3, 10, 0)
        self.assertAlmostEqual(self.team_pt._whatsapp_work_hours(start, end), 2.0, delta=0.01)

    def test_the_agent_gets_a_live_notice(self):
        with patch.object(type(self.env["res.users"]), "_bus_send", autospec=True) as send:
            conversation = self.deliver_from(self.new_customers(1, "55119777", "pt_BR"))
        self.assertTrue(conversation.user_id)
        calls = [(c.args[0], c.args[1], c.args[2]) for c in send.call_args_list]
        notices = [
            (users, payload) for users, kind, payload in calls if kind == "simple_notification"
        ]
        refreshes = [
            (users, payload) for users, kind, payload in calls if kind == "whatsapp_helpdesk/inbox"
        ]
        self.assertEqual(notices[0][0], conversation.user_id)
        self.assertIn("New message from 551197770000", notices[0][1]["message"])
        # the inboxes of the whole team reload themselves; open threads get the new message
        self.assertEqual(
            {kind for _u, kind, _p in calls},
            {"simple_notification", "whatsapp_helpdesk/inbox", "whatsapp_helpdesk/messages"},
        )
        self.assertGreaterEqual(refreshes[0][0], self.team_pt.user_ids)
        self.assertIn(conversation.id, refreshes[0][1]["conversation_ids"])

    def test_stage_change_sends_the_team_template(self):
        template = self.approved_template(
            "ticket_update", "Your ticket was updated, we keep you posted."
        )
        self.team_pt.whatsapp_stage_template_id = template
        conversation = self.deliver_from(self.new_customers(1, "55119778", "pt_BR"))
        ticket = self.env["helpdesk.ticket"]._whatsapp_open_for(conversation, "Pedido atrasado")
        ticket.stage_id = self.env.ref("helpdesk_mgmt.helpdesk_ticket_stage_in_progress")
        sent = conversation.whatsapp_message_ids.filtered(lambda m: m.template_id == template)
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent.res_model, "helpdesk.ticket")

    def test_click_to_whatsapp_ads_go_to_the_ads_team(self):
        ads = self.env["helpdesk.ticket.team"].create(
            {
                "name": "Ads",
                "whatsapp_enabled": True,
                "whatsapp_sources": "ad_referral",
                "user_ids": [(6, 0, self.carla.ids)],
            }
        )
        (number,) = self.new_customers(1, "55119779", "pt_BR")
        message = payloads.text_message(number, "Vi o anúncio")
        message["referral"] = {
            "source_url": "https://fb.me/abc",
            "source_type": "ad",
            "source_id": "120",
            "headline": "Promo",
        }
        self.intake(self.inbound(number, message))
        self.env["whatsapp.webhook.event"]._cron_process()
        conversation = self.env["whatsapp.conversation"].search([("wa_id", "=", number)])
        self.assertEqual(conversation.source, "ad_referral")
        self.assertEqual(conversation.team_id, ads)
        self.assertEqual(conversation.user_id, self.carla)

    def test_transfer_to_another_team_and_agent(self):
        conversation = self.deliver_from(self.new_customers(1, "55119780", "pt_BR"))
        owner = conversation.user_id
        wizard = (
            self.env["whatsapp.transfer"]
            .with_user(owner)
            .create(
                {
                    "conversation_id": conversation.id,
                    "team_id": self.team_es.id,
                    "user_id": self.carla.id,
                    "note": "Cliente fala espanhol",
                }
            )
        )
        wizard.action_transfer()
        self.assertRecordValues(
            conversation, [{"team_id": self.team_es.id, "user_id": self.carla.id}]
        )
        self.assertIn("Cliente fala espanhol", conversation.message_ids[0].body)

    def test_skills_named_by_the_customer_pick_the_skilled_team(self):
        returns = self.env["helpdesk.ticket.tag"].create({"name": "devolução"})
        skilled = self.env["helpdesk.ticket.team"].create(
            {
                "name": "Trocas",
                "whatsapp_enabled": True,
                "whatsapp_languages": "pt_BR",
                "whatsapp_skill_ids": [(6, 0, returns.ids)],
                "user_ids": [(6, 0, self.bruno.ids)],
            }
        )
        (number,) = self.new_customers(1, "55119781", "pt_BR")
        conversation = self.deliver_from([number], text="Quero fazer uma devolução")
        self.assertEqual(conversation.tag_ids, returns)
        self.assertEqual(conversation.team_id, skilled)
        self.assertEqual(conversation.user_id, self.bruno)
