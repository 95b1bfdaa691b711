"""The deliberately awkward postings: the inputs a posting pipeline meets in the wild."""

from __future__ import annotations

import random

from turing_dagster.sample_data.catalog import (
    AGENCY_VAGUE,
    BRACE_POSTINGS,
    EMOJI_CITIES,
    EMOJI_CLOSERS,
    EMOJI_OPENERS,
    FRENCH,
    GERMAN,
    ROLES,
    SCAMS,
    SPANISH,
    Role,
)
from turing_dagster.sample_data.drafts import Draft, language_draft, long_draft, make_draft


def roles_of(industry: str) -> list[Role]:
    return [r for r in ROLES if r.industry == industry]


def edge_drafts(rng: random.Random) -> list[Draft]:
    """Empty, tiny, very long, non-English, HTML, brace, emoji, untitled, scam-like and disabled postings."""
    drafts: list[Draft] = []

    def ordinary(industry: str | None = None) -> Draft:
        role = rng.choice(roles_of(industry) if industry else list(ROLES))
        return make_draft(rng, role)

    # empty and whitespace-only descriptions: scrapes whose detail page failed to load
    for _ in range(4):
        d = ordinary()
        d.description = ""
        drafts.append(d)
    for blank in ("   ", "\n\n\t\n", "\u00a0 \r\n \u00a0", " \t "):
        d = ordinary()
        d.description = blank
        drafts.append(d)
    # descriptions too short to summarise
    for tiny in ("TBD", "See attached PDF.", "Apply via link below.", "<p>&nbsp;</p><br/>"):
        d = ordinary()
        d.description = tiny
        drafts.append(d)
    # very long postings
    for industry in ("software", "healthcare", "finance", "manufacturing"):
        drafts.append(long_draft(rng, rng.choice(roles_of(industry))))
    # non-English postings
    for lang, specs in (("de", GERMAN), ("fr", FRENCH), ("es", SPANISH)):
        for spec in specs:
            drafts.append(language_draft(rng, lang, spec))
    # HTML exports
    for _ in range(12):
        d = ordinary()
        d.style = "html"
        drafts.append(d)
    # braces that look like placeholders
    for spec in BRACE_POSTINGS:
        drafts.append(Draft(blocks=[], **spec))
    # emoji and other unicode
    emoji_roles = [r for r in ROLES if r.industry in ("software", "data", "marketing", "sales")]
    for i in range(8):
        region_key = ("de", "ch", "ca", "remote")[i % 4]
        d = make_draft(rng, rng.choice(emoji_roles), region_key=region_key)
        d.style = "emoji"
        d.location = rng.choice(EMOJI_CITIES[region_key])
        d.blocks.insert(0, ("p", rng.choice(EMOJI_OPENERS)))
        d.blocks.append(("p", rng.choice(EMOJI_CLOSERS)))
        drafts.append(d)
    # missing titles: two without the key, two with null
    for missing in ("absent", "absent", "null", "null"):
        d = ordinary()
        d.title = None
        d.extras["_title_key"] = missing
        drafts.append(d)
    # scam-like and vague agency postings (low IHL scores)
    for spec in SCAMS:
        drafts.append(
            Draft(
                title=spec["title"],
                blocks=[],
                company=rng.choice(("Global Opportunities LLC", "Prime Staffing Solutions", "Confidential")),
                location=rng.choice(("Remote", "Anywhere", "Remote (US)")),
                employment_type=rng.choice(("Part-time", "Flexible", "Contract")),
                salary_range=rng.choice(("$45 - $60 per hour", "$5,000 per week", None)),
                remote_policy="Remote",
                source=rng.choice(("craigslist", "indeed", "facebook_jobs")),
                description=spec["description"],
            )
        )
    for spec in AGENCY_VAGUE:
        drafts.append(
            Draft(
                title=spec["title"],
                blocks=[],
                company=rng.choice(("Apex Talent Partners", "Confidential", "Summit Recruitment")),
                location=rng.choice(("London, UK", "Nationwide", "Various")),
                employment_type="Full-time",
                salary_range=rng.choice(("Competitive", None)),
                remote_policy="On-site",
                source=rng.choice(("indeed", "reed", "jobserve")),
                description=spec["description"],
            )
        )
    # a test posting and filled roles that were switched off
    d = ordinary("software")
    d.title = "TEST POSTING - DO NOT APPLY"
    d.description = "This is a test posting created to check the careers page integration. Please ignore it."
    d.extras["enabled"] = False
    drafts.append(d)
    for _ in range(3):
        d = ordinary()
        d.extras["enabled"] = False
        drafts.append(d)
    return drafts
