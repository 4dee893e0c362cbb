"""Segment rules as Odoo domains on ``res.partner`` (plain Python, no Odoo import).

A segment is a set of rules; each rule is one domain, and a partner is in the segment when every
rule holds. Keeping one domain per rule lets the preview say which rule left a partner out.

Consent and tags are stored facts of the partner (``whatsapp_consent``, kept in step by the
opt-ins: see :func:`consent_text`; ``whatsapp_tags``, kept in step by the tags: see
:func:`tags_text`), both in one partial index of the partners with a number, so that the usual
segment (number, tags, opt-in) is counted from that index alone, without a join: at a million
contacts the join on the tags' rel table costs seconds. The rules that need another table
(conversations, orders) take a ready subquery from the model (an ``odoo.tools.SQL`` there, any
object here): this module only decides the shape.
"""

import ast
from datetime import timedelta

# rule key: label (in the order the preview names them)
RULES = {
    "company": "not a contact of this company",
    "whatsapp": "no WhatsApp number",
    "tags_all": "lacks one of the required tags",
    "tags_any": "has none of the tags",
    "tags_none": "has an excluded tag",
    "country": "another country",
    "language": "another language",
    "marketing_optin": "no marketing opt-in",
    "utility_optin": "no utility opt-in",
    "inbound": "has not written recently",
    "orders": "not enough orders",
    "extra": "outside the extra filter",
}
# opt-in rule values: what a partner's number must have for the category
OPTIN_ANY, OPTIN_IN, OPTIN_NOT_OUT = "any", "opted_in", "not_opted_out"
MAX_DAYS = 36500
MAX_EXTRA_DOMAIN = 4000
CONSENT_STATES = {"opted_in": "in", "opted_out": "out"}


def consent_token(company_id, category, state):
    """The mark of one opt-in in a partner's consent text: ``",1:marketing:in,"`` (no LIKE
    wildcard in it, delimited on both sides so that company 1 never matches company 11)."""
    return f",{int(company_id)}:{category}:{CONSENT_STATES[state]},"


def consent_text(optins):
    """A partner's stored consent from the opt-ins of its number, [(company id, category,
    state)]: every mark once, in a fixed order; None without any."""
    marks = sorted({consent_token(*optin).strip(",") for optin in optins})
    return f",{','.join(marks)}," if marks else None


def tag_token(tag_id):
    """The mark of one tag in a partner's tags text: ``",8,"`` (digits only, so no LIKE
    wildcard; delimited on both sides so that tag 8 never matches tag 18)."""
    if isinstance(tag_id, bool) or not isinstance(tag_id, int):
        raise TypeError(f"a tag id is an integer, not {tag_id!r}")
    return f",{tag_id},"


def tags_text(tag_ids):
    """A partner's stored tags from its tag ids: each once, in order; None without any."""
    ids = sorted({int(tag_id) for tag_id in tag_ids})
    return f",{','.join(map(str, ids))}," if ids else None


def tag_domains(rules):
    """[(rule key, domain)] of the tag rules: all of (each tag), any of (one tag at least),
    none of (no tag), read on the partner's stored tags text."""
    parts = []
    tags_all = sorted(set(rules.get("tags_all") or ()))
    if tags_all:
        parts.append(("tags_all", [("whatsapp_tags", "like", tag_token(tag)) for tag in tags_all]))
    tags_any = sorted(set(rules.get("tags_any") or ()))
    if tags_any:
        terms = [("whatsapp_tags", "like", tag_token(tag)) for tag in tags_any]
        parts.append(("tags_any", ["|"] * (len(terms) - 1) + terms))
    tags_none = sorted(set(rules.get("tags_none") or ()))
    if tags_none:
        # "not like" holds for a partner without any tag (NULL) too
        parts.append(
            ("tags_none", [("whatsapp_tags", "not like", tag_token(tag)) for tag in tags_none])
        )
    return parts


def since(now, days):
    """The moment ``days`` days before ``now`` (bounded: a hostile count never overflows)."""
    days = max(0, min(int(days or 0), MAX_DAYS))
    return now - timedelta(days=days)


def rule_domains(rules, subqueries):
    """[(rule key, domain)] of the rules set in ``rules``, in :data:`RULES` order.

    ``rules``: {key: value} with ``company`` (company id or None), ``whatsapp`` (bool),
    ``tags_all`` / ``tags_any`` / ``tags_none`` (tag ids), ``country`` (country ids), ``language``
    (language codes), ``marketing_optin`` / ``utility_optin`` (``OPTIN_*``, for the consent given
    to ``consent_company``, a company id), ``extra`` (a domain list). ``subqueries``: {key:
    subquery} for the rules that need one: ``inbound`` (numbers that wrote recently), ``orders``
    (commercial partners with enough orders).
    """
    parts = []
    company = rules.get("company")
    if company:
        parts.append(("company", ["|", ("company_id", "=", False), ("company_id", "=", company)]))
    if rules.get("whatsapp"):
        parts.append(("whatsapp", [("whatsapp_e164", "!=", False)]))
    parts += tag_domains(rules)
    if rules.get("country"):
        parts.append(("country", [("country_id", "in", list(rules["country"]))]))
    if rules.get("language"):
        parts.append(("language", [("lang", "in", list(rules["language"]))]))
    for key, category in (("marketing_optin", "marketing"), ("utility_optin", "utility")):
        mode = rules.get(key) or OPTIN_ANY
        if mode == OPTIN_IN:
            token = consent_token(rules["consent_company"], category, "opted_in")
            parts.append((key, [("whatsapp_consent", "like", token)]))
        elif mode == OPTIN_NOT_OUT:
            token = consent_token(rules["consent_company"], category, "opted_out")
            parts.append((key, [("whatsapp_consent", "not like", token)]))
    if "inbound" in subqueries:
        parts.append(("inbound", [("whatsapp_e164", "in", subqueries["inbound"])]))
    if "orders" in subqueries:
        parts.append(("orders", [("commercial_partner_id", "in", subqueries["orders"])]))
    if rules.get("extra"):
        parts.append(("extra", list(rules["extra"])))
    return parts


def normalize(domain):
    """``domain`` in prefix form with every implicit AND written out (as Odoo's own)."""
    if not domain:
        return []
    result, expected = [], 1
    for term in domain:
        if expected == 0:  # one expression done while terms remain: an implicit AND
            result[0:0] = ["&"]
            expected = 1
        if isinstance(term, str) and term in ("&", "|"):
            expected += 1
        elif isinstance(term, str) and term == "!":
            pass
        else:
            expected -= 1
        result.append(term)
    if expected:
        raise ValueError(f"the domain {domain!r} is missing terms")
    return result


def combine(parts):
    """One domain: every rule's domain AND-ed (``[]``, everything, when no rule is set)."""
    domains = [normalize(part) for _key, part in parts if part]
    combined = ["&"] * max(0, len(domains) - 1)
    for domain in domains:
        combined += domain
    return combined


def check_extra_domain(value):
    """The extra filter read from its text (``[("field", "op", value), ...]``), or ValueError.

    Only literals: no names, calls or attribute access can run.
    """
    text = (value or "").strip()
    if not text:
        return []
    if len(text) > MAX_EXTRA_DOMAIN:
        raise ValueError(f"the extra filter is longer than {MAX_EXTRA_DOMAIN} characters")
    try:
        domain = ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as error:
        raise ValueError(f"the extra filter is not a literal domain: {error}") from None
    if not isinstance(domain, list):
        raise ValueError("the extra filter must be a list")
    for term in domain:
        if isinstance(term, str):
            if term not in ("&", "|", "!"):
                raise ValueError(f"unknown operator {term!r} in the extra filter")
        elif not (isinstance(term, (list, tuple)) and len(term) == 3 and isinstance(term[0], str)):
            raise ValueError(f"the term {term!r} of the extra filter is not (field, op, value)")
    domain = [tuple(term) if isinstance(term, list) else term for term in domain]
    normalize(domain)
    return domain
