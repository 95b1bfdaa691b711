"""The Ollama SIMULATOR's canned answers: deterministic, plausible, and valid JSON where JSON is asked for."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
from pydantic import BaseModel, Field

from turing_dagster.simulator import normalize_model_name, parse_keep_alive
from turing_dagster.simulator.answers import NO_CONTENT, build_answer
from turing_dagster.simulator.config import FOREVER

POSTING = """<h2>About us</h2>
<p>Acme Analytics is a data consultancy with offices in Berlin, Germany.</p>
<h2>What you will do</h2>
<ul><li>Build batch and streaming pipelines in Python and SQL</li><li>Run our Kafka and Airflow platform on AWS</li>
<li>Work with analysts to improve data quality</li></ul>
<h2>What you bring</h2>
<ul><li>3+ years of experience with Spark</li><li>Knowledge of Kubernetes and Docker</li>
<li>Strong communication skills</li></ul>
<p>We are looking for a Senior Data Engineer to design and run our data platform. This is a hybrid role.
Salary: &euro;70,000 per year.</p>"""

TEMPLATE_PROMPT = '''Summarise the job posting below for a job seeker.

Use exactly this structure:

Role: <job title and seniority, one line>
Company: <employer name and what it does; "Not stated" if unknown>
Location: <place and remote/hybrid/on-site arrangement>
Key responsibilities:
- <3 to 6 bullet points>
Requirements:
- <3 to 6 bullet points>

Job title: Senior Data Engineer

Posting:
"""
{posting}
"""
'''


def generate(prompt: str, system: str = "", **extra) -> str:
    return build_answer("generate", {"model": "m", "prompt": prompt, "system": system, **extra}).text


def chat(*messages: tuple[str, str], **extra) -> str:
    body = {"model": "m", "messages": [{"role": r, "content": c} for r, c in messages], **extra}
    return build_answer("chat", body).text


def test_the_same_request_gets_the_same_answer_and_different_postings_differ():
    prompt = "Summarise this posting:\n" + POSTING
    assert generate(prompt) == generate(prompt)
    assert chat(("user", prompt)) == chat(("user", prompt)) == generate(prompt)
    other = "Summarise this posting:\nWe are hiring a nurse for our Leeds clinic. You will care for patients daily."
    assert generate(other) != generate(prompt)


def test_a_summary_is_extractive_from_the_posting_without_html():
    answer = generate("Summarise this posting in two or three sentences.\n\n" + POSTING, system="You summarise job postings.")
    assert answer.startswith("Role: Senior Data Engineer\nSummary: ")
    assert "Acme Analytics is a data consultancy with offices in Berlin, Germany." in answer
    assert "<" not in answer and "&euro;" not in answer


@pytest.mark.parametrize("prompt", [
    "ID: h002\nSummarise: \n",
    "Summarise the posting. If it is empty answer [NO_CONTENT].\nPosting:\n",
    TEMPLATE_PROMPT.format(posting=""),
    TEMPLATE_PROMPT.format(posting=NO_CONTENT),
])
def test_a_summary_of_an_empty_posting_is_no_content(prompt):
    assert generate(prompt) == NO_CONTENT


def test_a_templated_summary_fills_every_field_from_the_posting():
    answer = chat(("system", "You summarise job postings."), ("user", TEMPLATE_PROMPT.format(posting=POSTING)))
    lines = answer.split("\n")
    assert lines[0] == "Role: Senior Data Engineer"
    assert lines[1].startswith("Company: Acme Analytics is a data consultancy")
    assert lines[2].startswith("Location: Berlin") and "hybrid" in lines[2]
    duties = answer.split("Key responsibilities:\n")[1].split("\nRequirements:")[0].split("\n")
    assert duties[0] == "- Build batch and streaming pipelines in Python and SQL" and len(duties) == 3
    assert "- Knowledge of Kubernetes and Docker" in answer.split("Requirements:\n")[1]


def test_grading_answers_pass_or_fail_with_a_reason_about_seventy_percent_pass():
    verdicts = []
    for i in range(300):
        prompt = (f"Grade the summary against the posting. Answer PASS or FAIL and a reason.\n\n"
                  f"Posting:\n\"\"\"\nWe hire a welder number {i} for our plant. You will weld steel frames daily.\n\"\"\"\n\n"
                  f"Summary:\n\"\"\"\nRole: Welder {i}\n\"\"\"")
        answer = generate(prompt, system="You are a strict reviewer.")
        match = re.match(r"^(PASS|FAIL): (\S.+)$", answer)
        assert match, answer
        assert "PASS" not in match.group(2) and "FAIL" not in match.group(2)
        verdicts.append(match.group(1))
    assert 0.6 < verdicts.count("PASS") / len(verdicts) < 0.8


def test_a_failed_grade_names_a_point_the_summary_leaves_out():
    for i in range(40):
        answer = generate(f"Check the summary. Reply PASS or FAIL.\nPosting:\n\"\"\"\n{POSTING}\n\"\"\"\n"
                          f"Summary to check:\n\"\"\"\nRole: Engineer number {i}\n\"\"\"")
        if answer.startswith("FAIL"):
            assert re.search(r'"(Build batch|Run our Kafka|Work with analysts|3\+ years|Knowledge of|Strong comm)', answer)
            return
    pytest.fail("no FAIL in 40 grades")


def test_improve_returns_a_cleaned_summary():
    prompt = ("Improve the summary below.\nSummary: basically builds data  pipelines. basically builds data pipelines. "
              "works with analysts")
    assert generate(prompt) == "Summary: Builds data pipelines. Works with analysts."


def test_improve_keeps_the_structure_of_a_structured_summary():
    draft = "Role: Senior Data Engineer\nCompany: Not stated\nLocation: Not stated\nRequirements:\n- Spark"
    prompt = (f'A reviewer rejected this summary. Write a corrected summary.\n\nSummary:\n"""\n{draft}\n"""\n\n'
              f'Reviewer\'s feedback:\n"""\nFAIL: company missing\n"""\n\nOriginal posting:\n"""\n{POSTING}\n"""')
    answer = chat(("system", "You are an editor who corrects summaries of job postings."), ("user", prompt))
    assert answer.startswith("Role: Senior Data Engineer\nCompany: Acme Analytics")
    assert "Requirements:\n- 3+ years of experience with Spark" in answer


def test_scores_are_integers_in_the_asked_range():
    default = generate("Score this posting.\n" + POSTING)
    assert default.isdigit() and 0 <= int(default) <= 100
    for i in range(30):
        ten = generate(f"Rate this job posting on a scale from 1 to 10.\nPosting {i}: we hire cooks in Leeds daily.")
        assert ten.isdigit() and 1 <= int(ten) <= 10


def test_chat_retry_with_a_complaint_answers_the_original_question():
    first = ("user", "Summarise this posting:\n" + POSTING)
    retried = chat(("system", "You summarise job postings."), first, ("assistant", ""),
                   ("user", "Your previous answer was invalid: it did not match the regex \\S. Try again."))
    assert retried == chat(("system", "You summarise job postings."), first)
    same_message = chat(("system", "You summarise job postings."),
                        ("user", first[1] + "\n\nYour previous answer was invalid. Try again."))
    assert same_message.startswith("Role: Senior Data Engineer\nSummary: ")


class Skill(BaseModel):
    name: str
    level: str = Field(json_schema_extra={"enum": ["basic", "advanced"]})


class Extraction(BaseModel):
    skills: list[Skill] = Field(min_length=2, max_length=5)
    score: int = Field(ge=1, le=10)
    confidence: float = Field(gt=0, lt=1)
    remote: bool
    notes: str | None = None


SCHEMAS = [
    {"type": "object", "required": ["skills"],
     "properties": {"skills": {"type": "array", "items": {"type": "string"}, "minItems": 1}}},
    {"type": "object", "required": ["score", "reason"],
     "properties": {"score": {"type": "integer", "minimum": 1, "maximum": 10}, "reason": {"type": "string"}}},
    {"type": "object", "properties": {"grade": {"enum": ["pass", "fail"]}, "tags": {
        "type": "array", "items": {"type": "string"}, "uniqueItems": True, "minItems": 3, "maxItems": 8}},
     "required": ["grade", "tags"], "additionalProperties": False},
    {"type": "array", "items": {"type": "object", "properties": {"id": {"type": "integer", "exclusiveMinimum": 5},
                                                                 "ratio": {"type": "number", "maximum": 0.5}},
                                "required": ["id", "ratio"]}},
    Extraction.model_json_schema(),
]


@pytest.mark.parametrize("schema", SCHEMAS)
def test_json_schema_formats_get_a_conforming_instance(schema):
    text = generate("Extract the skills from this posting.\n" + POSTING, format=schema)
    value = json.loads(text)
    jsonschema.validate(value, schema)
    if isinstance(value, list):
        assert 3 <= len(value) <= 8


def test_skills_are_picked_from_the_posting():
    schema = SCHEMAS[0]
    value = json.loads(chat(("system", "You extract skills."), ("user", "List the skills.\n" + POSTING), format=schema))
    # the posting's own skills, in the order it names them, capped at eight
    assert value["skills"] == ["Python", "SQL", "Kafka", "Airflow", "AWS", "Spark", "Kubernetes", "Docker"]
    assert all(skill.lower() in POSTING.lower() for skill in value["skills"])


def test_format_json_without_a_schema_is_valid_json_following_the_example_keys():
    value = json.loads(generate('Score the posting. Answer as {"score": 7, "reason": "..."}\n' + POSTING, format="json"))
    assert set(value) == {"score", "reason"} and isinstance(value["score"], int) and value["reason"]
    assert isinstance(json.loads(generate("Why is the sky blue?", format="json")), dict)


def test_anything_else_is_one_short_sentence_naming_the_request():
    assert generate("Why is the sky blue?") == 'This is a simulated reply to "Why is the sky blue?".'


def test_model_names_and_keep_alive_follow_ollama():
    assert normalize_model_name("gemma2") == normalize_model_name("Gemma2:latest") == "gemma2:latest"
    assert normalize_model_name("gemma3:4b") == "gemma3:4b"
    assert normalize_model_name("library/qwen2.5") == "library/qwen2.5:latest"
    assert parse_keep_alive("5m") == 300 and parse_keep_alive("1h30m") == 5400 and parse_keep_alive("250ms") == 0.25
    assert parse_keep_alive(0) == parse_keep_alive("0") == parse_keep_alive("0s") == 0
    assert parse_keep_alive(30) == parse_keep_alive("30") == 30
    assert parse_keep_alive(-1) == parse_keep_alive("-1m") == FOREVER
    assert parse_keep_alive(None, default=12.0) == 12.0
    with pytest.raises(ValueError):
        parse_keep_alive("soon")


def test_find_skills_substring_prefilter_finds_what_every_pattern_search_finds():
    from turing_dagster.simulator import text as t

    def searched(s: str) -> list[str]:  # the search of every pattern, without the substring test
        hits: dict[str, int] = {}
        for skill, _, pattern in t._SKILL_PATTERNS:
            m = pattern.search(s)
            if m and (skill not in hits or m.start() < hits[skill]):
                hits[skill] = m.start()
        return [k for k, _ in sorted(hits.items(), key=lambda kv: kv[1])]

    for s in ["Python, SQL and k8s; PYTHON again", "We use go and Go, R and sql", "\u017fql, \u212aubernetes, python",
              "Postgres\u2022Docker \u2014 \u00e9quipe, Machine Learning (scikit-learn)", "C++ and C# or .NET"]:
        assert t.find_skills(s, limit=50, fallback=False) == searched(s)[:50], s
