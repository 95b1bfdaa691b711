"""Drafts: postings before they are rendered and numbered, built from the templates in catalog.py."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from turing_dagster.sample_data.catalog import (
    CLOSINGS,
    INDUSTRIES,
    INTROS,
    LANGUAGES,
    LONG_SECTIONS,
    REGIONS,
    SENIORITY,
    Region,
    Role,
)
from turing_dagster.sample_data.render import Block, _sentence, render


@dataclass
class Draft:
    """A posting before it is rendered and numbered."""

    title: str | None
    blocks: list[Block]
    company: str
    location: str
    employment_type: str
    salary_range: str | None
    remote_policy: str
    source: str
    region: str = "us"
    extras: dict = field(default_factory=dict)
    style: str = "plain"
    description: str | None = None  # set to bypass rendering


def _fill(text: str, **values: object) -> str:
    """Replace the generator's own `{name}` tokens (data strings only; never applied to edge-case text)."""
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def _article(title: str) -> str:
    return "an" if title[:1].upper() in "AEIOU" else "a"


def _money(region: Region, amount: float, hourly: bool) -> str:
    if hourly:
        return f"{region.currency}{amount:,.2f}"
    return f"{region.currency}{int(round(amount, -3)):,}"


def _salary(rng: random.Random, region: Region, role: Role, factor: float) -> str | None:
    if rng.random() < 0.18:
        return rng.choice((None, "Competitive", "Depending on experience"))
    kind, mid = role.pay
    if kind == "hourly":
        base = mid * region.hourly_factor * factor * rng.uniform(0.92, 1.08)
        low = round(base * 4) / 4
        high = round(base * rng.uniform(1.1, 1.25) * 4) / 4
        text = f"{_money(region, low, True)} - {_money(region, high, True)} per hour"
        if role.industry == "hospitality" and "Server" in role.titles[0] and region.key == "us":
            text += " plus tips"
        return text
    base = mid * region.annual_factor * factor * rng.uniform(0.9, 1.05)
    high = base * rng.uniform(1.15, 1.3)
    text = f"{_money(region, base, False)} - {_money(region, high, False)} {region.year_word}"
    if role.industry == "sales" and "Account Executive" in role.titles[0]:
        text += " base, plus commission"
    return text


def _pick(rng: random.Random, items: tuple[str, ...] | list[str], low: int, high: int) -> list[str]:
    count = min(len(items), rng.randint(low, high))
    chosen = rng.sample(range(len(items)), count)
    return [items[i] for i in sorted(chosen)]


def make_draft(rng: random.Random, role: Role, *, region_key: str | None = None, title: str | None = None) -> Draft:
    """An ordinary posting for `role`, with randomised company, place, seniority, pay and sections."""
    industry = INDUSTRIES[role.industry]
    employers = [c for c in industry.companies if not role.companies or c[0] in role.companies]
    company, about = rng.choice(employers)
    region = REGIONS[region_key or rng.choice(role.regions)]
    city = rng.choice(region.cities)
    base_title = title or rng.choice(role.titles)
    prefix, factor, years = ("", 1.0, 3)
    if role.seniority:
        prefix, factor, years = rng.choice(SENIORITY)
        if prefix == "Staff " and (role.industry not in ("software", "data") or base_title.startswith("Staff")):
            prefix = "Senior "
    job_title = f"{prefix}{base_title}"
    team = rng.choice(role.teams)
    remote = rng.choice(role.remote)
    if region.key == "remote":
        remote = "Remote"
    years_text = str(max(1, years + rng.randint(-1, 1)))
    intros = [
        i
        for i in INTROS
        if not ("{city}" in i and region.key == "remote") and not ("experienced" in i and prefix == "Junior ")
    ]
    town = city.split(",")[0]
    intro = _fill(rng.choice(intros), company=company, title=job_title, a=_article(job_title), team=team, city=town)
    if remote == "Hybrid":
        intro += f" This is a hybrid role with {rng.choice(('two', 'three'))} days a week in our {town} office."
    elif remote == "Remote":
        intro += " The role is fully remote."
    duties = _pick(rng, role.duties, 4, 7)
    reqs = [_fill(r, years=years_text) for r in _pick(rng, role.reqs, 3, 6)]
    nice = _pick(rng, role.nice, 1, 3)
    benefits = _pick(rng, region.benefits, 3, 5) + _pick(rng, industry.benefits, 1, 3)
    blocks: list[Block] = [("h", "About us"), ("p", about), ("h", "The role"), ("p", intro)]
    blocks += [("h", "What you will do"), ("ul", duties), ("h", "What you bring"), ("ul", reqs)]
    if nice and rng.random() < 0.7:
        blocks += [("h", "Nice to have"), ("ul", nice)]
    blocks += [("h", "What we offer"), ("ul", benefits)]
    for closing in _pick(rng, CLOSINGS, 1, 2):
        blocks.append(("p", _fill(closing, company=company)))
    return Draft(
        title=job_title,
        blocks=blocks,
        company=company,
        location=city,
        employment_type=rng.choice(role.employment),
        salary_range=_salary(rng, region, role, factor),
        remote_policy=remote,
        source=rng.choice(region.sources),
        region=region.key,
        style=rng.choice(("plain", "plain", "plain", "caps", "colon", "prose", "markdown")),
    )


def language_draft(rng: random.Random, lang: str, spec: dict) -> Draft:
    language = LANGUAGES[lang]
    headings = language["headings"]
    blocks: list[Block] = [
        ("h", headings["about"]),
        ("p", spec["about"]),
        ("h", headings["tasks"]),
        ("ul", list(spec["tasks"])),
        ("h", headings["profile"]),
        ("ul", list(spec["profile"])),
        ("h", headings["offer"]),
        ("ul", list(spec["offer"])),
        ("p", headings["closing"]),
    ]
    city = spec.get("city") or rng.choice(language["cities"])
    return Draft(
        title=spec["title"],
        blocks=blocks,
        company=spec["company"],
        location=city,
        employment_type=spec["employment"],
        salary_range=spec["salary"],
        remote_policy=language["remote"],
        source=rng.choice(language["sources"]),
        region=lang,
        style=rng.choice(("plain", "caps", "markdown")),
    )


def long_draft(rng: random.Random, role: Role) -> Draft:
    """A posting well over 12,000 characters: role content plus the full corporate boilerplate."""
    draft = make_draft(rng, role)
    blocks = draft.blocks[:4]  # about + the role
    blocks += [("h", "Our story")] + [("p", p) for p in LONG_SECTIONS["history"]]
    blocks += [("h", "Our mission")] + [("p", p) for p in LONG_SECTIONS["mission"]]
    blocks += [("h", "Our values"), ("ul", list(LONG_SECTIONS["values"]))]
    blocks += [
        ("h", "What you will do"),
        (
            "ul",
            [
                _sentence(d) + " You will be supported by experienced "
                "colleagues and clear documentation, and you will have room to improve how this is done."
                for d in role.duties
            ],
        ),
    ]
    blocks += [("h", "What you bring"), ("ul", [_sentence(_fill(r, years="5")) for r in role.reqs])]
    blocks += [("h", "Nice to have"), ("ul", list(role.nice))]
    blocks += [("h", "A day in the life")] + [("p", p) for p in LONG_SECTIONS["day"]]
    blocks += [("h", "Growing with us")] + [("p", p) for p in LONG_SECTIONS["growth"]]
    blocks += [("h", "Benefits in detail"), ("ul", list(LONG_SECTIONS["benefits_detail"]))]
    blocks += [("h", "Our hiring process"), ("ul", list(LONG_SECTIONS["process"]))]
    blocks += [("h", "Frequently asked questions"), ("ul", list(LONG_SECTIONS["faq"]))]
    blocks += [("h", "Sustainability and community")] + [("p", p) for p in LONG_SECTIONS["sustainability"]]
    blocks += [("h", "Equal opportunity and pay transparency")] + [("p", p) for p in LONG_SECTIONS["eeo"]]
    blocks += [("h", "Privacy")] + [("p", p) for p in LONG_SECTIONS["privacy"]]
    draft.blocks = blocks
    draft.style = rng.choice(("plain", "caps", "colon"))
    assert len(render(blocks, draft.style, random.Random(0))) > 12000
    return draft
