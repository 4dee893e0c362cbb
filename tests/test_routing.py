"""Routing of new conversations (``tools/routing.py``): team matching, agent picking, backlog."""

from collections import Counter

import pytest
from wa_tools import routing
from wa_tools.routing import Agent, Conversation, Team


def conv(cid=1, language=None, skills=(), source=None, created_at=0.0):
    return Conversation(cid, language, frozenset(skills), source, created_at)


def team(tid, **values):
    return Team(tid, **values)


def agent(aid, teams=(1,), online=True, open_count=0, last=None, **values):
    return Agent(aid, frozenset(teams), online, open_count, last, **values)


# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------


def test_records_coerce_sets_and_validate():
    t = Team(1, languages=["pt"], skills=("billing",), sources="qr")
    assert t.languages == frozenset({"pt"})
    assert t.sources == frozenset({"qr"})
    assert agent(1, teams=[1, 2]).team_ids == frozenset({1, 2})
    with pytest.raises(ValueError):
        Team(1, policy="random")
    with pytest.raises(ValueError):
        Team(1, capacity=-1)


def test_language_fit():
    assert routing.language_fit("pt_BR", {"pt_BR"}) == 3
    assert routing.language_fit("pt-br", {"pt_BR"}) == 3
    assert routing.language_fit("pt_BR", {"pt"}) == 2
    assert routing.language_fit("pt", {"pt_PT"}) == 2
    assert routing.language_fit("es", frozenset()) == 1
    assert routing.language_fit(None, frozenset()) == 1
    assert routing.language_fit("es", {"pt"}) == 0
    assert routing.language_fit(None, {"pt"}) == 0


# --------------------------------------------------------------------------------------------------
# match_team
# --------------------------------------------------------------------------------------------------


def test_source_restricts_eligibility():
    ads = team(1, sources={"ad_referral"}, sequence=1)
    generic = team(2, sequence=5)
    assert routing.match_team(conv(source="ad_referral"), [ads, generic]) == ads
    assert routing.match_team(conv(source="website"), [ads, generic]) == generic
    assert routing.match_team(conv(source=None), [ads, generic]) == generic
    assert routing.match_team(conv(source="website"), [ads]) is None
    assert routing.match_team(conv(), []) is None


def test_keyword_source_case_insensitive():
    promo = team(1, sources={"keyword:promo"})
    assert routing.match_team(conv(source="keyword:PROMO"), [promo]) == promo
    assert routing.match_team(conv(source="keyword:other"), [promo]) is None


def test_language_exact_then_base_then_generic_then_mismatch():
    exact = team(1, languages={"pt_BR"}, sequence=9)
    base = team(2, languages={"pt"}, sequence=1)
    generic = team(3, sequence=0)
    spanish = team(4, languages={"es"}, sequence=0)
    teams = [exact, base, generic, spanish]
    assert routing.match_team(conv(language="pt_BR"), teams) == exact
    assert routing.match_team(conv(language="pt_PT"), teams) == base
    assert routing.match_team(conv(language="fr"), teams) == generic
    assert routing.match_team(conv(language="fr"), [spanish]) == spanish  # last resort
    assert routing.match_team(conv(language=None), [spanish, generic]) == generic


def test_more_skills_win():
    billing = team(1, skills={"billing"}, sequence=9)
    both = team(2, skills={"billing", "vip"}, sequence=9)
    generic = team(3, sequence=0)
    c = conv(skills={"billing", "vip"})
    assert routing.match_team(c, [billing, both, generic]) == both
    assert routing.match_team(conv(skills={"billing"}), [billing, generic]) == billing
    assert routing.match_team(conv(skills={"other"}), [billing, generic]) == generic


def test_language_beats_skills():
    speaks = team(1, languages={"pt"})
    skilled = team(2, skills={"billing"})
    assert routing.match_team(conv(language="pt", skills={"billing"}), [skilled, speaks]) == speaks


def test_working_hours_break_ties():
    day = team(1, sequence=1)
    night = team(2, sequence=2)
    assert routing.match_team(conv(), [day, night], in_hours={1: False, 2: True}) == night
    assert routing.match_team(conv(), [day, night], in_hours={1: True, 2: True}) == day
    assert routing.match_team(conv(), [day, night], in_hours={1: False}) == night  # missing: open
    assert routing.match_team(conv(), [day, night]) == day


def test_hours_do_not_beat_language():
    speaks = team(1, languages={"pt"})
    other = team(2)
    found = routing.match_team(conv(language="pt"), [speaks, other], in_hours={1: False})
    assert found == speaks


def test_sequence_then_id_fallback():
    a, b, c = team(3, sequence=5), team(2, sequence=5), team(1, sequence=7)
    assert routing.match_team(conv(), [a, b, c]) == b


# --------------------------------------------------------------------------------------------------
# pick_agent
# --------------------------------------------------------------------------------------------------


def test_round_robin_cycles_by_id_and_wraps():
    t = team(1)
    agents = [agent(30), agent(10), agent(20)]
    picked, cursor = [], None
    for _ in range(5):
        found, cursor = routing.pick_agent(t, agents, cursor=cursor)
        picked.append(found.id)
    assert picked == [10, 20, 30, 10, 20]
    assert cursor == 20


def test_round_robin_cursor_of_departed_agent():
    t = team(1)
    found, cursor = routing.pick_agent(t, [agent(10), agent(30)], cursor=20)
    assert (found.id, cursor) == (30, 30)
    found, _ = routing.pick_agent(t, [agent(10), agent(30)], cursor=99)
    assert found.id == 10


def test_round_robin_fairness_over_100():
    t = team(1)
    agents = [agent(1), agent(2), agent(3)]
    counts, cursor = Counter(), None
    for _ in range(100):
        found, cursor = routing.pick_agent(t, agents, cursor=cursor)
        counts[found.id] += 1
    assert sum(counts.values()) == 100
    assert max(counts.values()) - min(counts.values()) <= 1


def test_round_robin_fairness_through_backlog():
    t = team(1)
    agents = [agent(1), agent(2), agent(3), agent(4, online=False)]
    pairs, _ = routing.assign_backlog([conv(i, created_at=i) for i in range(100)], t, agents)
    counts = Counter(agent_id for _, agent_id in pairs)
    assert len(pairs) == 100 and set(counts) == {1, 2, 3}
    assert max(counts.values()) - min(counts.values()) <= 1


def test_offline_other_team_and_full_agents_skipped():
    t = team(1, capacity=2)
    agents = [
        agent(1, online=False),
        agent(2, teams=(9,)),
        agent(3, open_count=2),
        agent(4, open_count=1),
    ]
    found, cursor = routing.pick_agent(t, agents)
    assert (found.id, cursor) == (4, 4)


def test_nobody_available():
    t = team(1, capacity=1)
    agents = [agent(1, online=False), agent(2, open_count=1)]
    assert routing.pick_agent(t, agents, cursor=7) == (None, 7)
    assert routing.pick_agent(t, []) == (None, None)


def test_least_loaded_with_capacity_cap():
    t = team(1, policy="least_loaded", capacity=3)
    agents = [agent(1, open_count=3), agent(2, open_count=2), agent(3, open_count=1)]
    assert routing.pick_agent(t, agents)[0].id == 3
    assert routing.pick_agent(t, agents[:2])[0].id == 2
    assert routing.pick_agent(t, agents[:1])[0] is None


def test_unlimited_capacity():
    t = team(1, policy="least_loaded", capacity=0)
    assert routing.pick_agent(t, [agent(1, open_count=500)])[0].id == 1


def test_least_loaded_ties_by_last_assigned_then_id():
    t = team(1, policy="least_loaded")
    agents = [agent(1, last=200.0), agent(2, last=100.0), agent(3, last=None), agent(4, last=None)]
    assert routing.pick_agent(t, agents)[0].id == 3
    assert routing.pick_agent(t, agents[:2])[0].id == 2
    assert routing.pick_agent(t, [agent(2, last=5.0), agent(1, last=5.0)])[0].id == 1


def test_conversation_prefers_qualified_agents():
    t = team(1)
    agents = [agent(1, languages={"en"}), agent(2, languages={"pt"}), agent(3, skills={"vip"})]
    c = conv(language="pt_BR")
    assert routing.pick_agent(t, agents, conversation=c)[0].id == 2
    vip = conv(skills={"vip"})
    assert routing.pick_agent(t, agents, conversation=vip, cursor=2)[0].id == 3
    nobody_fits = conv(language="ja")
    assert routing.pick_agent(t, agents[:2], conversation=nobody_fits)[0].id == 1


# --------------------------------------------------------------------------------------------------
# assign_backlog
# --------------------------------------------------------------------------------------------------


def test_backlog_oldest_first_and_stops_when_full():
    t = team(1, capacity=2)
    agents = [agent(1, open_count=1), agent(2, open_count=0)]
    waiting = [conv(10, created_at=50.0), conv(11, created_at=10.0), conv(12, created_at=30.0)]
    waiting += [conv(9, created_at=30.0), conv(13, created_at=5.0)]
    pairs, cursor = routing.assign_backlog(waiting, t, agents)
    # room: agent 1 for one more, agent 2 for two -> the 3 oldest are served, 2 keep waiting
    assert [cid for cid, _ in pairs] == [13, 11, 9]
    assert [aid for _, aid in pairs] == [1, 2, 2]
    assert cursor == 2


def test_backlog_least_loaded_updates_counts():
    t = team(1, policy="least_loaded", capacity=3)
    agents = [agent(1, open_count=2, last=1.0), agent(2, open_count=0, last=2.0)]
    pairs, _ = routing.assign_backlog([conv(i, created_at=i) for i in range(10)], t, agents)
    assert [aid for _, aid in pairs] == [2, 2, 1, 2]


def test_backlog_least_loaded_rotates_equal_loads():
    t = team(1, policy="least_loaded")
    agents = [agent(1, last=None), agent(2, last=None), agent(3, last=None)]
    pairs, _ = routing.assign_backlog([conv(i, created_at=i) for i in range(6)], t, agents)
    assert [aid for _, aid in pairs] == [1, 2, 3, 1, 2, 3]


def test_backlog_nobody_available():
    t = team(1)
    pairs, cursor = routing.assign_backlog([conv(1)], t, [agent(1, online=False)], cursor=5)
    assert (pairs, cursor) == ([], 5)
    assert routing.assign_backlog([], t, [agent(1)]) == ([], None)


def test_a_team_dedicated_to_the_entry_point_wins_over_language():
    generic_pt = routing.Team(id=1, languages=frozenset({"pt_BR"}))
    ads = routing.Team(id=2, sources=frozenset({"ad_referral"}))
    conversation = routing.Conversation(
        id=1, language="pt_BR", skills=frozenset(), source="ad_referral", created_at=0.0
    )
    assert routing.match_team(conversation, [generic_pt, ads]) == ads
