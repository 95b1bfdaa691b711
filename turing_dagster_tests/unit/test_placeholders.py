"""Placeholders: what counts as one, fallback chains, literal braces, unresolved values."""

from __future__ import annotations

import pytest

from turing_dagster.workflows.placeholders import Placeholder, UnresolvedPlaceholder, find_placeholders, render

POSTING = {"posting_id": "h001", "job_title": "Nurse", "job_description": "Care for {posting.secret}", "blank": None}


def test_find_placeholders_kinds() -> None:
    found = find_placeholders("A {posting.job_title} B {extract} C {qwen_improve|gemma3_extract|posting.job_title}")
    texts = ["{posting.job_title}", "{extract}", "{qwen_improve|gemma3_extract|posting.job_title}"]
    assert [p.text for p in found] == texts
    assert found[0].alternatives == ["posting.job_title"]
    assert found[2].alternatives == ["qwen_improve", "gemma3_extract", "posting.job_title"]
    assert found[2].conversation_names == ["qwen_improve", "gemma3_extract"]
    assert isinstance(found[1], Placeholder)


@pytest.mark.parametrize(
    "literal",
    ['Answer like {"grade": "PASS"}', "{ x }", "{{", "}}", "{1}", "{a b}", "{a.b.c}", "{a|}", "{|a}", "{}", "{a-b}",
     '{"a": {"b": 1}}', "{posting.}", "{.x}"],
)
def test_other_brace_text_is_literal(literal: str) -> None:
    assert find_placeholders(literal) == []
    assert render(literal, POSTING, {}) == literal


def test_render_substitutes_posting_and_outputs() -> None:
    template = 'ID {posting.posting_id}: {extract}. Reply {"grade": "PASS"} or {{raw}}'
    assert render(template, POSTING, {"extract": "summary", "raw": "R"}) == (
        'ID h001: summary. Reply {"grade": "PASS"} or {R}'
    )


def test_render_fallback_chain_takes_first_existing() -> None:
    template = "{qwen_improve|gemma3_extract|posting.job_title}"
    assert render(template, POSTING, {"qwen_improve": "better", "gemma3_extract": "first"}) == "better"
    assert render(template, POSTING, {"gemma3_extract": "first"}) == "first"
    assert render(template, POSTING, {"qwen_improve": None}) == "Nurse"
    # an empty output exists: it is not skipped in favour of the fallback
    assert render(template, POSTING, {"qwen_improve": ""}) == ""


def test_substituted_values_are_never_rescanned() -> None:
    out = render("{posting.job_description} / {a}", POSTING, {"a": "{posting.job_title}"})
    assert out == "Care for {posting.secret} / {posting.job_title}"


def test_non_string_posting_values() -> None:
    posting = {"salary": 50000, "tags": ["a", "b"], "remote": True}
    assert render("{posting.salary} {posting.tags} {posting.remote}", posting, {}) == '50000 ["a", "b"] true'


@pytest.mark.parametrize(
    "template,expected",
    [("x {gemma2_grade} y", "{gemma2_grade}"), ("{posting.blank}", "{posting.blank}"),
     ("{posting.missing|other}", "{posting.missing|other}")],
)
def test_unresolved_raises(template: str, expected: str) -> None:
    with pytest.raises(UnresolvedPlaceholder) as info:
        render(template, POSTING, {"other": None})
    assert str(info.value) == f"unresolved placeholder {expected}"
    assert info.value.placeholder == expected


def test_none_and_empty_templates() -> None:
    assert find_placeholders(None) == []
    assert find_placeholders("") == []
    assert render("", POSTING, {}) == ""
