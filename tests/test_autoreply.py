"""Automatic replies (``tools/autoreply.py``): matching, choice, cool-down, working hours."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from wa_tools import autoreply
from wa_tools.autoreply import Rule


def kw(pattern, match="contains", rid=1, **values):
    return Rule(rid, "keyword", match=match, pattern=pattern, **values)


def matches(pattern, text, match="contains"):
    return autoreply.keyword_matches(kw(pattern, match), text)


# --------------------------------------------------------------------------------------------------
# normalize / keyword_matches
# --------------------------------------------------------------------------------------------------


def test_rule_validation():
    with pytest.raises(ValueError):
        Rule(1, "greeting")
    with pytest.raises(ValueError):
        Rule(1, "keyword", match="fuzzy")
    assert Rule(1, "welcome", languages=["pt"]).languages == frozenset({"pt"})


def test_normalize():
    assert autoreply.normalize("  Olá,\n  SÃO\tPaulo ") == "ola sao paulo"
    assert autoreply.normalize("Straße ÇA") == "strasse ca"
    assert autoreply.normalize("ＳＴＯＰ") == "stop"
    assert autoreply.normalize("Привет Ёлка") == "привет елка"
    assert autoreply.normalize("退订　谢谢") == "退订 谢谢"
    assert autoreply.normalize("がぎ パ") == "がぎ パ"  # kana voicing marks kept
    assert autoreply.normalize("환불") == "환불"
    assert autoreply.normalize(None) == ""


def test_contains_whole_words():
    assert matches("stop", "Please STOP now")
    assert matches("stop", "stop!")
    assert not matches("stop", "it stopped")
    assert not matches("stop", "nonstop")
    assert matches("order status", "my  Order   Status?")
    assert not matches("order status", "reorder statuses")
    assert matches("#promo", "send #PROMO please")


def test_contains_accents_both_ways():
    assert matches("promoção", "PROMOCAO")
    assert matches("promocao", "Quero a promoção")
    assert matches("Preço", "qual o preco?")


def test_contains_cjk_substring():
    assert matches("退订", "我要退订了")
    assert matches("退订", "stop退订")
    assert matches("キャンセル", "注文をキャンセルしたい")
    assert matches("환불", "환불이 필요해요")
    assert matches("stop", "退订stop")  # CJK neighbours are no word glue for Latin words


def test_alternatives():
    assert matches("price|preço|precio", "cuál es el PRECIO")
    assert matches("price | preço ", "o preco")
    assert not matches("price|cost", "hello")
    assert not matches("|", "anything")
    assert matches("hi|oi", "Oi", match="exact")


def test_exact():
    assert matches("menu", "  MENU ", match="exact")
    assert matches("menú", "menu", match="exact")
    assert not matches("menu", "menu please", match="exact")


def test_regex():
    assert matches(r"\border\s*#?\d+", "Where is ORDER #123?", match="regex")
    assert matches(r"promocao", "Promoção!", match="regex")  # normalized text searched too
    assert matches(r"promoção", "PROMOÇÃO", match="regex")
    assert not matches(r"^\d+$", "12a", match="regex")


def test_invalid_regex_never_matches_nor_raises():
    assert not matches("(unclosed", "(unclosed", match="regex")
    assert not matches("*", "*", match="regex")


def test_empty_pattern_or_text():
    assert not matches("", "hello")
    assert not matches("hello", "")
    assert not matches("hello", None)


# --------------------------------------------------------------------------------------------------
# choose
# --------------------------------------------------------------------------------------------------

NOW = 1_000_000.0


def choose(rules, text="", **values):
    values.setdefault("now", NOW)
    return [rule.id for rule in autoreply.choose(rules, text=text, **values)]


def test_keyword_priority_and_language():
    rules = [
        kw("price", rid="generic", priority=10),
        kw("price|preco", rid="pt", priority=5, languages={"pt"}),
        kw("price", rid="late", priority=20),
    ]
    assert choose(rules, "price?", language="pt_BR") == ["pt"]
    assert choose(rules, "price?", language="en") == ["generic"]
    assert choose(rules, "price?", language=None) == ["generic"]
    assert choose(rules, "preco", language="en") == []
    assert choose(rules, "hello", language="pt") == []


def test_priority_ties_by_id():
    assert choose([kw("hi", rid=2), kw("hi", rid=1)], "hi") == [1]


def test_welcome_first_contact_and_silence():
    first_only = Rule("first", "welcome", priority=1)
    back = Rule("back", "welcome", priority=2, silence_seconds=86400)
    rules = [first_only, back]
    assert choose(rules, first_contact=True) == ["first"]
    assert choose(rules, first_contact=False, silence_seconds=3600) == []
    assert choose(rules, first_contact=False, silence_seconds=86400) == ["back"]
    assert choose(rules, first_contact=False, silence_seconds=None) == []
    assert choose([first_only], first_contact=False, silence_seconds=10**9) == []


def test_out_of_hours():
    rules = [Rule("ooh", "out_of_hours"), Rule("ooh_pt", "out_of_hours", languages={"pt"})]
    assert choose(rules, in_hours=True) == []
    assert choose(rules, in_hours=False, language="en") == ["ooh"]


def test_one_of_each_kind_in_order():
    rules = [
        kw("price", rid="k1", priority=1),
        kw("price", rid="k2", priority=2),
        Rule("ooh", "out_of_hours", priority=1),
        Rule("w1", "welcome", priority=3),
        Rule("w2", "welcome", priority=4),
    ]
    found = choose(rules, "price", first_contact=True, in_hours=False)
    assert found == ["w1", "ooh", "k1"]


def test_cooldown():
    rules = [kw("price", rid="k", cooldown_seconds=600), Rule("ooh", "out_of_hours")]
    fired = {"k": NOW - 599, "ooh": NOW - 3599}
    assert choose(rules, "price", in_hours=False, last_fired=fired) == []
    fired = {"k": NOW - 600, "ooh": NOW - 3600}
    assert choose(rules, "price", in_hours=False, last_fired=fired) == ["ooh", "k"]
    no_cooldown = kw("price", rid="k", cooldown_seconds=0)
    assert choose([no_cooldown], "price", last_fired={"k": NOW}) == ["k"]


def test_cooling_rule_does_not_fall_back_to_next_of_kind():
    rules = [Rule("w1", "welcome", priority=1), Rule("w2", "welcome", priority=2)]
    assert choose(rules, first_contact=True, last_fired={"w1": NOW - 10}) == []
    assert choose(rules, first_contact=True, last_fired={"w2": NOW - 10}) == ["w1"]


def test_no_text_no_keyword():
    assert choose([kw("price")], text=None) == []


# --------------------------------------------------------------------------------------------------
# in_working_hours
# --------------------------------------------------------------------------------------------------

WEEKDAYS_9_TO_18 = [(day, 9.0, 18.0) for day in range(5)]


def test_working_hours_basic_utc():
    monday_10 = datetime(2024, 6, 3, 10, 0)
    assert autoreply.in_working_hours(WEEKDAYS_9_TO_18, monday_10, "UTC")
    assert not autoreply.in_working_hours(WEEKDAYS_9_TO_18, monday_10.replace(hour=18), "UTC")
    assert autoreply.in_working_hours(WEEKDAYS_9_TO_18, monday_10.replace(hour=9), "UTC")
    saturday = datetime(2024, 6, 8, 10, 0)
    assert not autoreply.in_working_hours(WEEKDAYS_9_TO_18, saturday, "UTC")
    assert not autoreply.in_working_hours([], monday_10, "UTC")


def test_fractional_hours():
    lunch_split = [(0, 8.5, 12.0), (0, 13.0, 17.5)]
    at = datetime(2024, 6, 3, 8, 29, tzinfo=UTC)
    assert not autoreply.in_working_hours(lunch_split, at, "UTC")
    assert autoreply.in_working_hours(lunch_split, at + timedelta(minutes=1), "UTC")
    assert not autoreply.in_working_hours(lunch_split, at.replace(hour=12, minute=30), "UTC")
    assert autoreply.in_working_hours(lunch_split, at.replace(hour=17, minute=29), "UTC")


def test_sao_paulo_vs_utc_around_midnight():
    # Tuesday 2024-06-04 01:30 UTC is Monday 22:30 in São Paulo (UTC-3)
    moment = datetime(2024, 6, 4, 1, 30)
    monday_evening = [(0, 20.0, 24.0)]
    assert autoreply.in_working_hours(monday_evening, moment, "America/Sao_Paulo")
    assert not autoreply.in_working_hours(monday_evening, moment, "UTC")
    tuesday_night = [(1, 0.0, 6.0)]
    assert autoreply.in_working_hours(tuesday_night, moment, "UTC")
    assert not autoreply.in_working_hours(tuesday_night, moment, "America/Sao_Paulo")


def test_aware_moment_and_epoch():
    brt = timezone(timedelta(hours=-3))
    moment = datetime(2024, 6, 3, 22, 30, tzinfo=brt)  # Monday 22:30 local = Tue 01:30 UTC
    assert autoreply.in_working_hours([(0, 22.0, 23.0)], moment, "America/Sao_Paulo")
    assert autoreply.in_working_hours([(1, 1.0, 2.0)], moment, "UTC")
    epoch = moment.timestamp()
    assert autoreply.in_working_hours([(1, 1.0, 2.0)], epoch, None)


def test_overnight_interval_and_string_weekdays():
    night = [("4", 22.0, 6.0)]  # Friday 22:00 to Saturday 06:00
    assert autoreply.in_working_hours(night, datetime(2024, 6, 7, 23, 0), "UTC")
    assert autoreply.in_working_hours(night, datetime(2024, 6, 8, 5, 59), "UTC")
    assert not autoreply.in_working_hours(night, datetime(2024, 6, 8, 6, 0), "UTC")
    assert not autoreply.in_working_hours(night, datetime(2024, 6, 7, 21, 0), "UTC")


def test_daylight_saving_time():
    # New York: 9:00 local is 13:00 UTC in summer, 14:00 UTC in winter
    summer = datetime(2024, 7, 1, 13, 30)
    winter = datetime(2024, 1, 8, 13, 30)
    assert autoreply.in_working_hours(WEEKDAYS_9_TO_18, summer, "America/New_York")
    assert not autoreply.in_working_hours(WEEKDAYS_9_TO_18, winter, "America/New_York")


def test_unknown_time_zone():
    with pytest.raises(ValueError):
        autoreply.in_working_hours(WEEKDAYS_9_TO_18, datetime(2024, 6, 3), "Mars/Olympus")


def test_allowed_kinds_while_a_person_handles_the_conversation():
    everything = {autoreply.WELCOME, autoreply.OUT_OF_HOURS, autoreply.KEYWORD}
    assert autoreply.allowed_kinds() == everything
    # a person owns it: nothing automatic, not even the notices, until it is resolved
    assert autoreply.allowed_kinds(person_owns=True) == frozenset()
    assert autoreply.allowed_kinds(person_owns=True, person_live=True) == frozenset()
    assert autoreply.allowed_kinds(person_live=True) == frozenset()


def test_next_working_time():
    sao_paulo = "America/Sao_Paulo"  # UTC-3
    # Friday 2024-06-07 20:00 local: closed, back on Monday 09:00 local
    friday_evening = datetime(2024, 6, 7, 23, 0)
    back = autoreply.next_working_time(WEEKDAYS_9_TO_18, friday_evening, sao_paulo)
    assert (back.weekday(), back.hour, back.minute) == (0, 9, 0)
    assert back.utcoffset().total_seconds() == -3 * 3600
    # Monday 07:00 local: later the same day
    back = autoreply.next_working_time(WEEKDAYS_9_TO_18, datetime(2024, 6, 10, 10, 0), sao_paulo)
    assert (back.day, back.hour) == (10, 9)
    # in hours: now
    now = datetime(2024, 6, 10, 15, 0)
    back = autoreply.next_working_time(WEEKDAYS_9_TO_18, now, sao_paulo)
    assert back.astimezone(UTC).replace(tzinfo=None) == now
    # half hours, and no intervals at all
    back = autoreply.next_working_time([(5, 8.5, 12)], friday_evening, sao_paulo)
    assert (back.weekday(), back.hour, back.minute) == (5, 8, 30)
    assert autoreply.next_working_time([], friday_evening, sao_paulo) is None
