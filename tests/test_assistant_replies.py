"""Tests of what the assistant answers (``tools.assistant``): order status, invoices, returns,
opening hours, the catalogue of sentences, the turn decision and the agent's summary."""

from datetime import date, datetime

import pytest
from wa_tools.assistant import hours, invoices, orders, phrases, returns, summary, turn
from wa_tools.assistant import understand as u
from wa_tools.assistant.phrases import Reply

SHIPPED = orders.Shipment(
    "done",
    date_done=datetime(2026, 3, 3, 15, 0),
    carrier="Correios",
    tracking_ref="BR123",
    tracking_url="https://track.example/BR123",
)


def order(id_=1, ref="S00042", state="confirmed", shipments=(), **values):
    return orders.Order(
        id=id_,
        ref=ref,
        state=state,
        date=values.pop("date", datetime(2026, 3, 1, 12, 0)),
        amount=values.pop("amount", 1234.56),
        currency=values.pop("currency", "BRL"),
        shipments=tuple(shipments),
        **values,
    )


# -- the catalogue -------------------------------------------------------------------------------


def test_every_sentence_is_in_the_five_languages_with_the_same_placeholders():
    import string

    for key, texts in phrases.PHRASES.items():
        assert set(texts) == set(phrases.LANGUAGES), key
        fields = {
            lang: {f for _, f, _, _ in string.Formatter().parse(text) if f}
            for lang, text in texts.items()
        }
        assert len({frozenset(f) for f in fields.values()}) == 1, (key, fields)


def test_list_titles_fit_whatsapp():
    for key in phrases.PHRASES:
        if (
            key.startswith(("menu.", "reason.", "stage.", "return.all_items"))
            and key != "menu.help"
        ):
            for text in phrases.PHRASES[key].values():
                assert len(text) <= 24, (key, text)
        if key.endswith("button") or key == "section":
            for text in phrases.PHRASES[key].values():
                assert len(text) <= 20, (key, text)


def test_language_and_locale():
    assert phrases.language_of("pt_BR") == "pt"
    assert phrases.language_of("zh-Hans") == "zh"
    assert phrases.language_of("fr_FR") == "en"
    assert phrases.language_of(None) == "en"
    assert phrases.locale_of("pt_PT") == "pt_PT"
    assert phrases.locale_of("id") == "id_ID"
    assert phrases.locale_of("fr_FR") == "en_US"


def test_values_are_never_read_as_a_format():
    text = phrases.say("order.unknown", "en", ref="{__class__} {0}")
    assert "{__class__} {0}" in text


# -- order status --------------------------------------------------------------------------------


def test_each_stage_of_an_order():
    lang = "pt_BR"
    quotation = orders.describe(order(state="quotation"), lang)
    assert "orçamento" in quotation and "R$ 1.234,56" in quotation
    assert "cancelado" in orders.describe(order(state="cancelled"), lang)
    confirmed = orders.describe(
        order(expected_date=datetime(2026, 3, 10, 15)), lang, tz="America/Sao_Paulo"
    )
    assert "preparação" in confirmed and "10 de mar. de 2026" in confirmed
    shipped = orders.describe(order(shipments=[SHIPPED]), lang, tz="America/Sao_Paulo")
    assert "enviado em 3 de mar. de 2026" in shipped
    assert "Correios" in shipped and "https://track.example/BR123" in shipped
    partial = order(shipments=[SHIPPED, orders.Shipment("waiting")])
    assert orders.stage(partial) == orders.PARTIAL
    assert "Parte do pedido" in orders.describe(partial, lang)
    delivered = orders.Shipment(
        "done", date_done=SHIPPED.date_done, delivered_at=datetime(2026, 3, 5)
    )
    text = orders.describe(order(shipments=[delivered]), lang)
    assert "entregue em 5 de mar. de 2026" in text and "track" not in text
    cancelled_shipment = order(shipments=[orders.Shipment("cancel")])
    assert orders.stage(cancelled_shipment) == orders.CONFIRMED


def test_tracking_reference_without_a_link():
    shipment = orders.Shipment("done", date_done=datetime(2026, 3, 3), tracking_ref="ZX9")
    assert "Tracking number: ZX9" in orders.describe(order(shipments=[shipment]), "en_US")


def test_the_only_active_order_is_answered_else_the_customer_picks():
    old = order(2, "S00040", shipments=[orders.Shipment("done", delivered_at=datetime(2026, 1, 2))])
    current = order(1, "S00042", shipments=[SHIPPED])
    reply = orders.answer([current, old], language="en_US")
    assert "S00042 was shipped" in reply.text and not reply.rows
    another = order(3, "S00043")
    reply = orders.answer([another, current, old], language="es")
    assert [row.title for row in reply.rows] == ["S00043", "S00042"]
    assert reply.rows[0].id == "wa_ai:order:3"
    assert "En preparación" in reply.rows[0].description
    assert reply.state == {"flow": "order", "step": "pick", "offered": [3, 1]}
    assert orders.picked("wa_ai:order:3", reply.state) == 3


def test_a_picked_order_must_have_been_offered():
    state = {"flow": "order", "step": "pick", "offered": [3, 1]}
    for hostile in ("wa_ai:order:999", "wa_ai:order:-1", "wa_ai:order:3x", "wa_ai:order:", None, 3):
        assert orders.picked(hostile, state) is None
    assert orders.picked("wa_ai:order:3", None) is None


def test_references_and_the_cross_customer_guard():
    mine = [order(1, "S00042")]
    assert "S00042" in orders.answer(mine, ref="s00042", language="en").text
    # a reference that is not among the customer's orders: nothing is said about it
    reply = orders.answer(mine, ref="S00099", language="en")
    assert reply.text.startswith("I could not find order S00099") and reply.offer_person
    # a number shared by several customers: ask for the reference, list nothing
    reply = orders.answer([order(1, "S00077")], ambiguous=True, language="en")
    assert "reference" in reply.text and not reply.rows and "S00077" not in reply.text
    assert reply.state == {"flow": "order", "step": "reference"}
    assert "S00042" in orders.answer(mine, ref="S00042", ambiguous=True, language="en").text
    reply = orders.answer([], language="zh_CN")
    assert "没有找到" in reply.text and reply.offer_person


def test_the_list_holds_at_most_ten_orders():
    many = [order(i, f"S{10000 + i}") for i in range(15)]
    reply = orders.answer(many, language="en")
    assert len(reply.rows) == 10 and len(reply.state["offered"]) == 10


# -- invoices ------------------------------------------------------------------------------------


def invoice(id_=1, ref="INV/2026/00001", state="not_paid", residual=500.0, **values):
    return invoices.Invoice(
        id=id_,
        ref=ref,
        date=values.pop("date", date(2026, 3, 1)),
        due_date=values.pop("due_date", date(2026, 3, 31)),
        amount=values.pop("amount", 500.0),
        residual=residual,
        currency=values.pop("currency", "BRL"),
        payment_state=state,
        **values,
    )


def test_what_is_due_with_the_payment_links_and_the_total():
    today = date(2026, 3, 15)
    due = [
        invoice(1, pay_url="https://shop.example/my/invoices/1?access_token=x"),
        invoice(2, "INV/2026/00002", due_date=date(2026, 3, 10), residual=250.0),
        invoice(3, "INV/2026/00003", state="paid", residual=0.0),
    ]
    text = invoices.answer(due, language="pt_BR", today=today).text
    assert "R$ 500,00 a pagar até 31 de mar. de 2026" in text
    assert "Pague online: https://shop.example/my/invoices/1?access_token=x" in text
    assert "vencida desde 10 de mar. de 2026" in text
    assert "No total, R$ 750,00 em aberto." in text
    assert "00003" not in text


def test_everything_paid_in_payment_and_named_invoices():
    today = date(2026, 3, 15)
    paid = [invoice(state="paid", residual=0.0)]
    assert "all your invoices are paid" in invoices.answer(paid, language="en", today=today).text
    processing = [invoice(state="in_payment", residual=0.0)]
    assert "being processed" in invoices.answer(processing, language="en", today=today).text
    named = invoices.answer(
        [invoice(order_refs=("S00042",)), invoice(2, "INV/2026/00002")],
        order_ref="S00042",
        language="en",
        today=today,
    )
    assert "INV/2026/00001" in named.text and "00002" not in named.text
    unknown = invoices.answer(paid, ref="INV/2026/09999", language="en", today=today)
    assert unknown.offer_person and "INV/2026/09999" in unknown.text
    reply = invoices.answer(paid, ambiguous=True, language="en", today=today)
    assert "INV" not in reply.text and reply.state["step"] == "reference"
    assert invoices.answer([], language="id", today=today).text.startswith("Saya tidak")


# -- returns -------------------------------------------------------------------------------------


def returnable(id_=1, ref="S00042", shipped=True, lines=((10, "Lamp", 2.0), (11, "Chair", 1.0))):
    return returns.Order(
        id_, ref, datetime(2026, 3, 1), shipped, tuple(returns.Line(*line) for line in lines)
    )


def test_a_return_walks_order_line_reason():
    first = returns.start([returnable(), returnable(2, "S00043")], language="en")
    assert [r.id for r in first.rows] == ["wa_ai:ret_order:1", "wa_ai:ret_order:2"]
    order_id = returns.picked_order("wa_ai:ret_order:2", first.state)
    assert order_id == 2
    lines = returns.ask_lines(returnable(2, "S00043"), first.state["kind"], "en")
    assert [r.id for r in lines.rows] == [
        "wa_ai:ret_line:10",
        "wa_ai:ret_line:11",
        "wa_ai:ret_line:all",
    ]
    assert lines.rows[0].description == "2 × Lamp"
    assert returns.picked_lines("wa_ai:ret_line:11", lines.state) == [11]
    assert returns.picked_lines("wa_ai:ret_line:all", lines.state) == [10, 11]
    assert returns.picked_lines("wa_ai:ret_line:99", lines.state) == []
    reason = returns.ask_reason({**lines.state, "lines": [11]}, "en")
    assert reason.state["step"] == "reason" and len(reason.rows) == len(returns.REASONS)
    assert returns.reason("wa_ai:ret_reason:damaged", "") == ("damaged", "")
    assert returns.reason("wa_ai:ret_reason:bogus", "it smells") == ("other", "it smells")
    assert returns.reason(None, "x" * 5000)[1] == "x" * returns.MAX_REASON_CHARS
    done = returns.done("HT00012", "S00043", returns.RETURN, "pt_BR")
    assert "HT00012" in done.text and "S00043" in done.text


def test_a_single_shipped_order_with_one_line_goes_straight_to_the_reason():
    reply = returns.start([returnable(lines=((10, "Lamp", 1.0),)), returnable(2, shipped=False)])
    assert reply.state == {
        "flow": "return",
        "kind": "return",
        "step": "reason",
        "order": 1,
        "lines": [10],
    }


def test_returns_need_a_shipped_order_of_the_customer():
    assert "not been shipped" in returns.start([returnable(shipped=False)], ref="S00042").text
    unknown = returns.start([returnable()], ref="S00099", language="en")
    assert "S00099" in unknown.text and unknown.offer_person and unknown.state is None
    assert returns.start([returnable(shipped=False)]).offer_person
    ambiguous = returns.start([returnable()], ambiguous=True, exchange=True)
    assert ambiguous.state == {"flow": "return", "kind": "exchange", "step": "reference"}
    assert not ambiguous.rows


# -- opening hours -------------------------------------------------------------------------------

WEEK = [(d, 9.0, 18.0) for d in range(5)] + [(5, 9.0, 13.0)]


def test_schedule_groups_days_with_the_same_hours():
    assert hours.schedule(WEEK, "en_US") == "Mon–Fri 9:00 AM–6:00 PM; Sat 9:00 AM–1:00 PM"
    assert hours.schedule(WEEK, "pt_BR") == "seg.–sex. 09:00–18:00; sáb. 09:00–13:00"
    lunch = [(0, 9, 12), (0, 13, 18), (2, 9, 12), (2, 13, 18)]
    assert (
        hours.schedule(lunch, "en")
        == "Mon 9:00 AM–12:00 PM, 1:00 PM–6:00 PM; Wed 9:00 AM–12:00 PM, 1:00 PM–6:00 PM"
    )
    assert hours.schedule([], "en") == ""


def test_hours_answer_open_closed_and_address():
    tz = "America/Sao_Paulo"
    open_now = hours.answer(
        WEEK, moment=datetime(2026, 3, 2, 15), tz=tz, language="en", address="Rua A, 1"
    )
    assert "We are open now." in open_now.text and "Address: Rua A, 1." in open_now.text
    saturday_night = datetime(2026, 3, 8, 2)  # Saturday 23:00 in São Paulo
    closed = hours.answer(WEEK, moment=saturday_night, tz=tz, language="pt_BR")
    assert "abrimos de novo segunda-feira 09:00" in closed.text
    lisbon = hours.answer(
        WEEK, moment=saturday_night, tz=tz, language="pt_BR", customer_tz="Europe/Lisbon"
    )
    assert "segunda-feira 12:00" in lisbon.text
    assert hours.answer([], moment=saturday_night, tz=tz, language="es").text.startswith(
        "Respondemos"
    )


# -- the turn and the summary --------------------------------------------------------------------


def test_turn_hands_over_when_asked_angry_or_missed_twice():
    settings = turn.Settings()
    assert turn.decide(u.Understanding(u.HUMAN), settings=settings).reason == turn.ASKED
    angry = u.Understanding(u.ORDER_STATUS, negative=True)
    assert turn.decide(angry, settings=settings).reason == turn.NEGATIVE
    calm = turn.Settings(handoff_on_negative=False)
    assert turn.decide(angry, settings=calm).intent == u.ORDER_STATUS
    first = turn.decide(u.Understanding(u.NONE), settings=settings, misses=0)
    assert (first.kind, first.misses) == (turn.MENU, 1)
    second = turn.decide(u.Understanding(u.NONE), settings=settings, misses=1)
    assert (second.kind, second.reason, second.misses) == (turn.HANDOFF, turn.MISSES, 2)
    hello = turn.decide(u.Understanding(u.NONE, smalltalk=True), settings=settings, misses=1)
    assert (hello.kind, hello.misses) == (turn.SILENT, 1), "a greeting is not a miss"
    never = turn.Settings(handoff_misses=0, help_menu=False)
    assert turn.decide(u.Understanding(u.NONE), settings=never, misses=5).kind == turn.SILENT


def test_turn_without_self_service_is_the_faq_bot():
    bot = turn.Settings(intents=frozenset())
    assert turn.decide(u.Understanding(u.ORDER_STATUS), settings=bot).kind == turn.SILENT
    assert turn.decide(u.Understanding(u.FAQ), settings=bot).kind == turn.FAQ
    assert turn.decide(u.Understanding(u.HUMAN), settings=bot).kind == turn.HANDOFF
    angry = u.Understanding(u.NONE, negative=True)
    assert turn.decide(angry, settings=bot, misses=3).kind == turn.SILENT
    only_hours = turn.Settings(intents=frozenset({u.HOURS}))
    assert turn.decide(u.Understanding(u.INVOICE), settings=only_hours).kind == turn.MENU


def test_menu_intent():
    assert turn.menu_intent("wa_ai:menu:invoice") == u.INVOICE
    for hostile in ("wa_ai:menu:human", "wa_ai:menu:", "wa_ai:menu:__class__", None, 7):
        assert turn.menu_intent(hostile) is None


def test_summary_keeps_the_questions_for_the_agent():
    turns = [
        summary.Turn("Oi"),
        summary.Turn("cadê meu pedido S00042?", u.ORDER_STATUS),
        summary.Turn("cadê meu pedido S00042?", u.ORDER_STATUS),
        summary.Turn("a fatura INV/2026/00012 está errada " + "x" * 500),
        summary.Turn("quero falar com um atendente"),
        summary.Turn(None),
    ]
    result = summary.summarize(turns)
    assert result.questions[0] == "cadê meu pedido S00042?"
    assert len(result.questions) == 2 and result.questions[1].endswith("…")
    assert len(result.questions[1]) == summary.MAX_CHARS
    assert result.intents == (u.ORDER_STATUS, u.INVOICE)
    assert result.references == ("S00042", "INV/2026/00012")


def test_reply_defaults():
    reply = Reply("x")
    assert reply.rows == () and not reply.offer_person and reply.state is None


@pytest.mark.parametrize("language", ["en_US", "pt_BR", "es", "zh_CN", "id", "fr", None])
def test_every_answer_speaks_every_language(language):
    assert orders.answer([], language=language).text
    assert invoices.answer([], language=language, today=date(2026, 1, 1)).text
    assert returns.start([], language=language).text
    assert hours.answer(WEEK, moment=datetime(2026, 1, 1), tz="UTC", language=language).text
