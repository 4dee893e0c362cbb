"""Routing of new WhatsApp conversations: which team takes one, then which agent. No Odoo import.

The Odoo models pass plain records in and get decisions out:

* :func:`match_team` picks the team of a new conversation from its entry point (``source``), its
  language, the skills it needs and, optionally, which teams are in working hours;
* :func:`pick_agent` picks the agent of a team, by round robin or by load, among the agents that
  are online and have room;
* :func:`assign_backlog` serves the waiting conversations of a team, oldest first, until no agent
  has room.

Fairness: with ``round_robin`` every pick hands the conversation to the first available agent
(agents ordered by id) after the one in the cursor, wrapping around. Over a run of ``n``
assignments during which the same ``k`` agents stay available, each gets ``n // k`` or
``n // k + 1`` of them: counts never differ by more than 1 (100 conversations over 3 agents:
34 / 33 / 33). An agent that is offline or full is skipped, not owed: it gets no catch-up share
when it comes back. ``least_loaded`` evens out the open conversations instead.

Ids may be ints or strings; they are only compared for ordering and equality.
"""

from dataclasses import dataclass, replace

from .text import base_language, id_key, normalize_language

ROUND_ROBIN = "round_robin"
LEAST_LOADED = "least_loaded"
POLICIES = frozenset({ROUND_ROBIN, LEAST_LOADED})


def _frozen(values):
    """``values`` (any iterable, a single string or None) as a frozenset."""
    if values is None:
        return frozenset()
    if isinstance(values, str):
        return frozenset({values})
    return frozenset(values)


# --------------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Team:
    """A helpdesk team as routing sees it.

    ``languages`` (e.g. ``{"pt_BR", "pt"}``), ``skills`` (tags) and ``sources`` (entry points:
    ``"website"``, ``"ad_referral"``, ``"qr"``, ``"keyword:<word>"``) left empty accept anything.
    ``capacity`` is the maximum of open conversations per agent (0: unlimited).
    """

    id: object
    languages: frozenset = frozenset()
    skills: frozenset = frozenset()
    sources: frozenset = frozenset()
    policy: str = ROUND_ROBIN
    capacity: int = 0
    sequence: int = 10
    only_assignee_replies: bool = False

    def __post_init__(self):
        for name in ("languages", "skills", "sources"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {sorted(POLICIES)}, not {self.policy!r}")
        if self.capacity < 0:
            raise ValueError(f"capacity must be >= 0, not {self.capacity!r}")


@dataclass(frozen=True, slots=True)
class Agent:
    """An agent: its teams, presence, current load and when it last got a conversation.

    ``open_count`` counts its open conversations; ``last_assigned_at`` is in epoch seconds (None:
    never). ``languages`` and ``skills`` left empty mean "any" (see :func:`pick_agent`).
    """

    id: object
    team_ids: frozenset
    online: bool
    open_count: int
    last_assigned_at: float | None = None
    languages: frozenset = frozenset()
    skills: frozenset = frozenset()

    def __post_init__(self):
        for name in ("team_ids", "languages", "skills"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation to route: customer language (None: unknown), needed skills, entry point."""

    id: object
    language: str | None
    skills: frozenset
    source: str | None
    created_at: float

    def __post_init__(self):
        object.__setattr__(self, "skills", _frozen(self.skills))


# --------------------------------------------------------------------------------------------------
# Matching helpers
# --------------------------------------------------------------------------------------------------


def language_fit(wanted, offered):
    """How well ``offered`` (a set of codes; empty: any) serves the language ``wanted``.

    3: exact code, 2: same base language (``"pt"`` vs ``"pt_BR"``), 1: ``offered`` is empty (any
    language), 0: no match, or ``wanted`` is unknown while ``offered`` is specific.
    """
    if not offered:
        return 1
    wanted = normalize_language(wanted)
    if not wanted:
        return 0
    offered = {normalize_language(code) for code in offered}
    if wanted in offered:
        return 3
    if base_language(wanted) in {base_language(code) for code in offered}:
        return 2
    return 0


def _normalize_source(source):
    return source.strip().lower() if isinstance(source, str) else source


def source_accepted(team, source):
    """True when ``team`` takes conversations entering through ``source`` (empty sources: all)."""
    if not team.sources:
        return True
    if source is None or source == "":
        return False
    return _normalize_source(source) in {_normalize_source(s) for s in team.sources}


def _team_key(team, conversation, in_hours):
    """Sort key of an eligible team: the best team sorts first."""
    dedicated = bool(team.sources)  # eligible with sources = it names this entry point
    language = language_fit(conversation.language, team.languages)
    skills = len(conversation.skills & team.skills)
    open_now = True if in_hours is None else bool(in_hours.get(team.id, True))
    return (not dedicated, -language, -skills, not open_now, team.sequence, id_key(team.id))


# --------------------------------------------------------------------------------------------------
# Team
# --------------------------------------------------------------------------------------------------


def match_team(conversation, teams, *, in_hours=None):
    """The team that takes ``conversation``, or None when no team accepts its source.

    A team whose ``sources`` is non-empty is eligible only when it contains the conversation's
    source (compared case-insensitively; a conversation without source goes only to teams without
    sources). Eligible teams are then ranked by, in this order:

    0. a team dedicated to the conversation's entry point (it lists the source) first;
    1. language: exact code, then same base language (``"pt"`` / ``"pt_BR"``), then a team with no
       languages (accepts any), then a team whose languages do not match (kept as a last resort,
       so that a conversation in an unexpected language still lands somewhere);
    2. more of the conversation's skills in the team's skills;
    3. in working hours before out of hours, when ``in_hours`` (``{team_id: bool}``) is given; a
       team missing from it counts as in hours (no calendar: always open);
    4. lowest ``sequence``, then lowest id.
    """
    eligible = [team for team in teams if source_accepted(team, conversation.source)]
    if not eligible:
        return None
    return min(eligible, key=lambda team: _team_key(team, conversation, in_hours))


# --------------------------------------------------------------------------------------------------
# Agent
# --------------------------------------------------------------------------------------------------


def has_room(team, agent):
    """True when ``agent`` is under the team's capacity (0: unlimited)."""
    return team.capacity == 0 or agent.open_count < team.capacity


def available_agents(team, agents):
    """Agents of ``team`` that are online and have room, ordered by id."""
    found = [a for a in agents if team.id in a.team_ids and a.online and has_room(team, a)]
    return sorted(found, key=lambda agent: id_key(agent.id))


def qualified(agent, conversation):
    """True when ``agent`` speaks the conversation's language and has all the skills it needs
    (an agent without languages, or without skills, is a generalist for that criterion)."""
    if conversation.language and language_fit(conversation.language, agent.languages) < 1:
        return False
    return not agent.skills or conversation.skills <= agent.skills


def _round_robin(candidates, cursor):
    """The first of ``candidates`` (ordered by id) after the agent id ``cursor``, wrapping."""
    if cursor is not None:
        after = id_key(cursor)
        for agent in candidates:
            if id_key(agent.id) > after:
                return agent
    return candidates[0]


def _least_loaded_key(agent, batch_rank=None):
    """Fewest open conversations, then least recently assigned (never first), then id.

    ``batch_rank`` orders the agents assigned during one :func:`assign_backlog` call, which are
    more recent than any ``last_assigned_at`` received.
    """
    rank = (batch_rank or {}).get(agent.id, 0)
    never = agent.last_assigned_at is None
    return (agent.open_count, rank, not never, agent.last_assigned_at or 0.0, id_key(agent.id))


def _pick(team, agents, cursor, conversation, batch_rank):
    candidates = available_agents(team, agents)
    if not candidates:
        return None, cursor
    if conversation is not None:
        # prefer agents that fit the conversation, but never leave it waiting for one
        candidates = [a for a in candidates if qualified(a, conversation)] or candidates
    if team.policy == ROUND_ROBIN:
        agent = _round_robin(candidates, cursor)
    else:
        agent = min(candidates, key=lambda a: _least_loaded_key(a, batch_rank))
    return agent, agent.id


def pick_agent(team, agents, *, cursor=None, conversation=None):
    """The agent of ``team`` that gets the next conversation: ``(agent, new_cursor)``.

    Only agents of the team that are online and under the team's capacity are considered;
    ``(None, cursor)`` when there is none (the conversation waits in the backlog).

    * ``round_robin``: the next available agent, by id, after ``cursor`` (the id of the agent
      served last; None: start from the lowest id), wrapping around; see the module docstring for
      the fairness it guarantees.
    * ``least_loaded``: fewest open conversations, then oldest ``last_assigned_at`` (never assigned
      first), then lowest id.

    ``new_cursor`` is the id of the chosen agent; store it on the team for the next call. When a
    ``conversation`` is given, agents that fit it (see :func:`qualified`) are preferred; when none
    of the available agents does, all of them remain candidates.
    """
    return _pick(team, agents, cursor, conversation, None)


def assign_backlog(conversations, team, agents, *, cursor=None):
    """Serve waiting ``conversations`` of ``team``: ``([(conversation_id, agent_id)], cursor)``.

    Conversations are taken oldest first (``created_at``, then id); each assignment adds one to the
    agent's open count (and makes it the most recently assigned) before the next pick, and the
    loop stops as soon as no agent has room: the rest keep waiting.
    """
    state = {agent.id: agent for agent in agents}
    batch_rank = {}
    assignments = []
    ordered = sorted(conversations, key=lambda c: (c.created_at, id_key(c.id)))
    for conversation in ordered:
        agent, cursor = _pick(team, state.values(), cursor, conversation, batch_rank)
        if agent is None:
            break
        state[agent.id] = replace(agent, open_count=agent.open_count + 1)
        batch_rank[agent.id] = len(assignments) + 1
        assignments.append((conversation.id, agent.id))
    return assignments, cursor
