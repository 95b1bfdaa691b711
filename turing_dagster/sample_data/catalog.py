"""The sample-posting generator's template data, loaded from the JSON files next to this module.

templates.json holds regions (cities, currency, customary benefits), industries (employers and their "about"
text), role families (titles, pay, duties, requirements), seniority levels, intros, closings and headings.
handwritten.json holds the non-English postings, scam-like and vague agency postings, postings with braces,
emoji decorations and the boilerplate sections of very long postings.

JSON arrays are loaded as tuples, so the data reads like the Python literals it replaced.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _tuples(value: object) -> object:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, dict):
        return {k: _tuples(v) for k, v in value.items()}
    return value


def _load(name: str) -> dict:
    with (HERE / name).open(encoding="utf-8") as f:
        return _tuples(json.load(f))  # type: ignore[return-value]


_TEMPLATES = _load("templates.json")
_HANDWRITTEN = _load("handwritten.json")

# ---------------------------------------------------------------------------------------------------------
# Regions: where a posting is, how its pay is written, and which benefits are customary there.
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Region:
    key: str
    cities: tuple[str, ...]
    currency: str  # prefix, e.g. "$", "£", "€", "CHF "
    annual_factor: float  # local pay relative to a US mid-level figure
    hourly_factor: float
    sources: tuple[str, ...]
    benefits: tuple[str, ...]  # in templates.json: a list, or the name of one of "benefit_sets"
    year_word: str = "per year"


def _region(key: str, spec: dict) -> Region:
    benefits = spec["benefits"]
    if isinstance(benefits, str):
        benefits = _TEMPLATES["benefit_sets"][benefits]
    return Region(key=key, **{**spec, "benefits": benefits})


REGIONS: dict[str, Region] = {key: _region(key, spec) for key, spec in _TEMPLATES["regions"].items()}
REGION_SETS: dict[str, tuple[str, ...]] = _TEMPLATES["region_sets"]  # weighted: a key may repeat

# ---------------------------------------------------------------------------------------------------------
# Industries (companies, customary benefits) and role families (titles, duties, requirements).
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Industry:
    key: str
    companies: tuple[tuple[str, str], ...]  # (name, about text)
    benefits: tuple[str, ...]


@dataclass(frozen=True)
class Role:
    industry: str
    titles: tuple[str, ...]
    pay: tuple[str, float]  # ("annual" | "hourly", US mid-level figure)
    duties: tuple[str, ...]  # imperative phrases, no final period
    reqs: tuple[str, ...]  # noun phrases; "{years}" is replaced with a number
    nice: tuple[str, ...]
    teams: tuple[str, ...]
    regions: tuple[str, ...] = REGION_SETS["office"]  # in templates.json: a list or a "region_sets" name
    seniority: bool = True
    employment: tuple[str, ...] = ("Full-time",)
    remote: tuple[str, ...] = ("On-site",)
    companies: tuple[str, ...] = ()  # restrict to these employers of the industry (default: any)


def _role(spec: dict) -> Role:
    regions = spec.get("regions", "office")
    if isinstance(regions, str):
        regions = REGION_SETS[regions]
    return Role(**{**spec, "regions": regions})


INDUSTRIES: dict[str, Industry] = {key: Industry(key, **spec) for key, spec in _TEMPLATES["industries"].items()}
ROLES: tuple[Role, ...] = tuple(_role(spec) for spec in _TEMPLATES["roles"])
SENIORITY: tuple[tuple[str, float, int], ...] = _TEMPLATES["seniority"]  # (prefix, pay factor, years)
INTROS: tuple[str, ...] = _TEMPLATES["intros"]
CLOSINGS: tuple[str, ...] = _TEMPLATES["closings"]
HEADINGS_COLON: dict[str, str] = _TEMPLATES["headings"]["colon"]
HTML_HEADINGS: dict[str, str] = _TEMPLATES["headings"]["html"]
EMOJI_HEADINGS: dict[str, str] = _TEMPLATES["headings"]["emoji"]

# ---------------------------------------------------------------------------------------------------------
# Hand-written postings: non-English ones, scam-like ones, and edge cases.
# ---------------------------------------------------------------------------------------------------------

LANGUAGES: dict[str, dict] = _HANDWRITTEN["languages"]  # headings, sources, remote policy, postings
GERMAN: tuple[dict, ...] = LANGUAGES["de"]["postings"]
FRENCH: tuple[dict, ...] = LANGUAGES["fr"]["postings"]
SPANISH: tuple[dict, ...] = LANGUAGES["es"]["postings"]
SCAMS: tuple[dict, ...] = _HANDWRITTEN["scams"]  # title, description
AGENCY_VAGUE: tuple[dict, ...] = _HANDWRITTEN["agency_vague"]  # title, description
# ATS merge fields that were never filled in, JSON in text, and prompt-template syntax in an AI job;
# each has the Draft fields title, company, location, employment_type, salary_range, remote_policy,
# source and description
BRACE_POSTINGS: tuple[dict, ...] = _HANDWRITTEN["brace_postings"]
EMOJI_CITIES: dict[str, tuple[str, ...]] = _HANDWRITTEN["emoji"]["cities"]  # region -> places with diacritics
EMOJI_OPENERS: tuple[str, ...] = _HANDWRITTEN["emoji"]["openers"]
EMOJI_CLOSERS: tuple[str, ...] = _HANDWRITTEN["emoji"]["closers"]
LONG_SECTIONS: dict[str, tuple[str, ...]] = _HANDWRITTEN["long_sections"]
