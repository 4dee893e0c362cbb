"""Tests of ``tools.faq``: normalization, tokens, multilingual FAQ matching, "talk to a person"."""

import pytest
from wa_tools import faq
from wa_tools.faq import Entry, Matcher

KB = (
    Entry(
        "en_hours",
        "en_US",
        ("What are your opening hours?", "When are you open?", "What time does the store open?"),
        ("opening hours", "open"),
        "We are open Monday to Saturday, 9:00-18:00.",
    ),
    Entry(
        "en_delivery",
        "en_US",
        (
            "How long does delivery take?",
            "When will my order arrive?",
            "How many days for shipping?",
        ),
        ("delivery", "shipping"),
        "Orders arrive within 3 to 5 business days.",
    ),
    Entry(
        "en_returns",
        "en_US",
        ("What is your return policy?", "Can I return a product?", "How do I get a refund?"),
        ("return", "refund"),
        "You can return any product within 30 days.",
    ),
    Entry(
        "en_payment",
        "en_US",
        ("Which payment methods do you accept?", "Can I pay by credit card?"),
        ("payment", "credit card"),
        "Credit card, debit card and PayPal.",
    ),
    Entry(
        "pt_hours",
        "pt_BR",
        ("Qual o horário de atendimento?", "Que horas vocês abrem?", "A loja abre que horas?"),
        ("horário",),
        "Atendemos de segunda a sábado, das 9h às 18h.",
    ),
    Entry(
        "pt_delivery",
        "pt_BR",
        ("Quanto tempo demora a entrega?", "Qual o prazo de entrega?", "Quando chega meu pedido?"),
        ("entrega", "frete", "prazo"),
        "O prazo é de 3 a 5 dias úteis.",
    ),
    Entry(
        "pt_returns",
        "pt_BR",
        ("Como faço para devolver um produto?", "Qual a política de troca e devolução?"),
        ("devolução", "troca", "reembolso"),
        "Você pode devolver em até 30 dias.",
    ),
    Entry(
        "pt_payment",
        "pt_BR",
        ("Quais as formas de pagamento?", "Aceitam Pix?", "Posso pagar com cartão de crédito?"),
        ("pagamento", "pix", "boleto"),
        "Pix, boleto e cartão de crédito.",
    ),
    Entry(
        "es_hours",
        "es",
        ("¿Cuál es el horario de atención?", "¿A qué hora abren?"),
        ("horario",),
        "Abrimos de lunes a sábado de 9 a 18 h.",
    ),
    Entry(
        "es_delivery",
        "es",
        (
            "¿Cuánto tiempo tarda la entrega?",
            "¿Cuándo llega mi pedido?",
            "¿Cuántos días tarda el envío a domicilio?",
        ),
        ("envío", "entrega"),
        "El envío tarda de 3 a 5 días hábiles.",
    ),
    Entry(
        "es_returns",
        "es",
        ("¿Cómo puedo devolver un producto?", "¿Cuál es la política de devoluciones?"),
        ("devolución", "reembolso"),
        "Puedes devolverlo en un plazo de 30 días.",
    ),
    Entry(
        "es_payment",
        "es",
        ("¿Qué formas de pago aceptan?", "¿Puedo pagar con tarjeta?"),
        ("pago", "tarjeta", "oxxo"),
        "Tarjeta, OXXO y transferencia.",
    ),
    Entry(
        "zh_hours",
        "zh_CN",
        ("你们的营业时间是什么时候？", "几点开门？"),
        ("营业时间", "开门"),
        "我们周一至周六 9:00-18:00 营业。",
    ),
    Entry(
        "zh_delivery",
        "zh_CN",
        ("发货需要多久？", "快递几天能到？"),
        ("发货", "快递"),
        "3-5 天送达。",
    ),
    Entry(
        "zh_returns",
        "zh_CN",
        ("怎么退货？", "退款政策是什么？"),
        ("退货", "退款"),
        "30 天内可退货。",
    ),
    Entry(
        "zh_payment",
        "zh_CN",
        ("支持哪些付款方式？", "可以用支付宝吗？"),
        ("付款", "支付宝", "微信支付"),
        "支持支付宝和微信支付。",
    ),
    Entry(
        "any_whatsapp",
        "",
        ("Is this WhatsApp number official?",),
        ("whatsapp",),
        "Yes, this is our official number.",
    ),
)


@pytest.fixture(scope="module")
def matcher():
    return Matcher(KB)


# --------------------------------------------------------------------------------------------
# normalize / tokens
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Qual é o HORÁRIO de atendimento?? ", "qual e o horario de atendimento"),
        ("¿Cuánto tarda el envío?", "cuanto tarda el envio"),
        ("Ação, ÇA, Straße", "acao ca strasse"),
        ("Ｈｅｌｌｏ，世界！", "hello 世界"),
        ("你们几点开门？", "你们几点开门"),
        ("नमस्ते दुनिया", "नमस्ते दुनिया"),
        ("hi 👋🏽 there ❤️", "hi there"),
        ("👍🏽❤️🙏", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize(text, expected):
    assert faq.normalize(text) == expected
    assert faq.normalize(expected) == expected


def test_tokens_latin_stop_words_and_plurals():
    assert faq.tokens("What are your opening hours?", "en_US") == ["what", "opening", "hour"]
    assert faq.tokens("Qual o horário de atendimento?", "pt_BR") == [
        "qual",
        "horario",
        "atendimento",
    ]
    assert faq.tokens("¿Cuál es la política de devoluciones?", "es") == [
        "cual",
        "politica",
        "devolucion",
    ]
    assert faq.tokens("Kapan barangnya sampai di rumah saya?", "id_ID") == [
        "kapan",
        "barang",
        "sampai",
        "rumah",
    ]
    # pt plurals in -ões, unknown language: union of the stop-word lists
    assert faq.tokens("cartões", "pt_BR") == ["cartao"]
    assert faq.tokens("the hours de la tienda", None) == ["hour", "tienda"]


def test_tokens_cjk_bigrams():
    assert faq.tokens("你们几点开门") == ["你们", "们几", "几点", "点开", "开门"]
    assert faq.tokens("门") == ["门"]
    # sentence particles cut the runs
    assert faq.tokens("开门吗") == ["开门"]
    assert faq.tokens("iPhone 退货") == ["iphone", "退货"]


def test_entry_coerces_sequences_to_tuples():
    entry = Entry(1, None, ["a question"], ["kw"])
    assert entry.questions == ("a question",)
    assert entry.keywords == ("kw",)
    assert entry.language == ""
    hash(entry)


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("What time do you open?", "en_US", "en_hours"),
        ("how long for delivery??", "en_US", "en_delivery"),
        ("Do you take credit cards?", "en_US", "en_payment"),
        ("Hi! Good morning, what time do you open on saturdays?", "en_US", "en_hours"),
        ("qual o horário de funcionamento?", "pt_BR", "pt_hours"),
        ("vcs aceitam pix?", "pt_BR", "pt_payment"),
        ("quero devolver o produto", "pt_BR", "pt_returns"),
        ("¿cuánto tarda el envío?", "es", "es_delivery"),
        ("cuanto tarda el envio", "es_MX", "es_delivery"),
        ("quiero devolver un producto", "es", "es_returns"),
        ("你们几点开门", "zh_CN", "zh_hours"),
        ("退货怎么办", "zh_CN", "zh_returns"),
        ("多久发货", "zh_CN", "zh_delivery"),
    ],
)
def test_paraphrases_match(matcher, text, language, expected):
    found = matcher.match(text, language)
    assert found is not None, matcher.match_all(text, language)
    assert found.entry.id == expected
    assert faq.DEFAULT_THRESHOLD <= found.score <= 1.0
    assert found.matched_question in found.entry.questions


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("What tiem do you opne?", "en_US", "en_hours"),
        ("how long does delivey take", "en_US", "en_delivery"),
        ("qual o horario de funcionamneto", "pt_BR", "pt_hours"),
        ("cuanto tarda el enivo", "es", "es_delivery"),
    ],
)
def test_typos_still_match(matcher, text, language, expected):
    found = matcher.match(text, language)
    assert found is not None, matcher.match_all(text, language)
    assert found.entry.id == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("my screen is broken and the app crashes", "en_US"),
        ("what time is it in Tokyo?", "en_US"),
        ("mi pantalla está rota", "es"),
        ("meu celular não liga", "pt_BR"),
        ("我的手机屏幕坏了", "zh_CN"),
    ],
)
def test_unrelated_questions_fall_below_threshold(matcher, text, language):
    assert matcher.match(text, language) is None
    assert all(m.score < matcher.threshold for m in matcher.match_all(text, language))


def test_language_filtering(matcher):
    question = "What time do you open?"
    assert matcher.match(question, "pt_BR") is None
    assert matcher.match(question, None).entry.id == "en_hours"
    # same base language: "pt" ~ "pt_BR", "es_MX" ~ "es"
    assert matcher.match("qual o horário de funcionamento?", "pt").entry.id == "pt_hours"
    assert matcher.match("¿A qué hora abren?", "es_MX").entry.id == "es_hours"
    assert matcher.match("¿A qué hora abren?", "en_US") is None
    # language "" answers everybody
    for language in ("pt_BR", "zh_CN", "id_ID", None):
        assert matcher.match("Is this WhatsApp number official?", language).entry.id == (
            "any_whatsapp"
        )
    ids = {m.entry.id for m in matcher.match_all("horário horario hour", "pt_BR", limit=None)}
    assert ids and all(i.startswith(("pt_", "any_")) for i in ids)


def test_keyword_boost(matcher):
    plain = Matcher([Entry(e.id, e.language, e.questions, (), e.answer) for e in KB])
    text = "horário da loja"
    boosted = matcher.match_all(text, "pt_BR")[0]
    unboosted = plain.match_all(text, "pt_BR")[0]
    assert boosted.entry.id == unboosted.entry.id == "pt_hours"
    assert unboosted.score < faq.DEFAULT_THRESHOLD <= boosted.score
    # a keyword alone is not an answer
    alone = matcher.match_all("frete", "pt_BR")[0]
    assert alone.entry.id == "pt_delivery"
    assert 0 < alone.score < faq.DEFAULT_THRESHOLD
    # CJK keywords match as substrings
    assert matcher.match_all("支付宝", "zh_CN")[0].entry.id == "zh_payment"


def test_keyword_boost_closes_part_of_the_gap():
    # the keywords repeat words of the questions: same IDF weights with or without them
    questions = ("What are your opening hours?", "When does the shop open?")
    bare = Matcher([Entry(1, "en", questions), Entry(2, "en", ("Where is the shop?",))])
    one = Matcher([Entry(1, "en", questions, ("hour",)), Entry(2, "en", ("Where is the shop?",))])
    two = Matcher(
        [Entry(1, "en", questions, ("hour", "shop")), Entry(2, "en", ("Where is the shop?",))]
    )
    text = "shop hours on sunday"
    base = bare.match_all(text)[0].score
    expected_one = base + (1 - base) * faq.KEYWORD_BOOST
    expected_two = base + (1 - base) * (1 - (1 - faq.KEYWORD_BOOST) ** 2)
    assert one.match_all(text)[0].score == pytest.approx(expected_one, abs=1e-5)
    assert two.match_all(text)[0].score == pytest.approx(expected_two, abs=1e-5)
    assert base < one.match_all(text)[0].score < two.match_all(text)[0].score


def test_threshold_boundary():
    text = "qual o horário de funcionamento?"
    score = Matcher(KB).match_all(text, "pt_BR")[0].score
    assert 0 < score < 1
    assert Matcher(KB, threshold=score).match(text, "pt_BR").score == score
    assert Matcher(KB, threshold=score + 1e-6).match(text, "pt_BR") is None
    assert Matcher(KB, threshold=0.0).match("what", "en_US") is not None
    assert Matcher(KB, threshold=1.0).match("What time does the store open?", "en").score == 1.0
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError):
            Matcher(KB, threshold=bad)


def test_ties_go_to_lower_id():
    question = ("Where is your shop?",)
    numeric = Matcher([Entry(10, "en", question), Entry(2, "en", question), Entry(7, "", question)])
    assert [m.entry.id for m in numeric.match_all("where is your shop", "en_US")] == [2, 7, 10]
    named = Matcher([Entry("b", "en", question), Entry("a", "en", question)])
    assert named.match("Where is your shop?").entry.id == "a"


def test_match_all_order_limit_and_floor(matcher):
    results = matcher.match_all("How long does delivery take and what is the return policy?", "en")
    assert len(results) == 3
    assert [m.score for m in results] == sorted((m.score for m in results), reverse=True)
    assert {results[0].entry.id, results[1].entry.id} == {"en_delivery", "en_returns"}
    assert len(matcher.match_all("delivery", "en", limit=1)) == 1
    assert matcher.match_all("delivery", "en", limit=0) == []
    assert all(m.score >= 0.5 for m in matcher.match_all("delivery", "en", min_score=0.5))
    assert all(m.score > 0 for m in matcher.match_all("zzz delivery", None, limit=None))


@pytest.mark.parametrize("text", ["", "   ", "👍🏽", "❤️🙏😀", "?!...", None, 42])
def test_empty_or_emoji_only_text(matcher, text):
    assert matcher.match(text, "en_US") is None
    assert matcher.match_all(text) == []
    assert faq.wants_human(text) is False


def test_very_long_text_is_bounded(matcher):
    assert matcher.match("blah " * 100_000, "en_US") is None
    words = " ".join(f"word{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}x" for i in range(5000))
    matcher.match_all(words + " what time do you open", None)
    assert matcher.match("What time do you open? " * 2000, "en_US").entry.id == "en_hours"


def test_empty_knowledge_base_and_bad_entries():
    assert Matcher([]).match("What time do you open?") is None
    assert Matcher([Entry(1, "en", ("", "!!"))]).match_all("anything") == []
    with pytest.raises(TypeError):
        Matcher([{"id": 1}])


def test_deterministic(matcher):
    texts = [("qual o horario de funcionamneto", "pt_BR"), ("你们几点开门", None), ("open", "en")]
    first = [matcher.match_all(t, lang, limit=None) for t, lang in texts]
    again = [Matcher(KB).match_all(t, lang, limit=None) for t, lang in texts]
    reordered = [Matcher(reversed(KB)).match_all(t, lang, limit=None) for t, lang in texts]
    assert first == again == reordered


# --------------------------------------------------------------------------------------------
# wants_human
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Can I talk to a person please?", "en_US"),
        ("I want to speak with someone", "en_US"),
        ("HUMAN", None),
        ("agent pls", "en"),
        ("quero falar com alguém", "pt_BR"),
        ("Atendente!!", "pt_BR"),
        ("Preciso falar com um humano", "pt"),
        ("Quiero hablar con una persona", "es_MX"),
        ("agente, por favor", "es"),
        ("转人工", "zh_CN"),
        ("我要找客服", None),
        ("saya mau bicara dengan orang", "id_ID"),
        ("Bisa ngobrol sama manusia?", "id_ID"),
        ("Je veux parler à un conseiller", "fr_FR"),
        ("Ich möchte mit einem Menschen sprechen", "de_DE"),
        ("talk to a person", "pt_BR"),
    ],
)
def test_wants_human(text, language):
    assert faq.wants_human(text, language)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("What time do you open?", "en_US"),
        ("humanity is great", "en"),
        ("a gente quer saber o horário", "pt_BR"),
        ("¿cuánto tarda el envío?", "es"),
        ("你们几点开门", "zh_CN"),
        ("kapan barang sampai?", "id_ID"),
    ],
)
def test_does_not_want_human(text, language):
    assert not faq.wants_human(text, language)
