"""The text tests behind the QA checks: stemming, grounding, facts, template holes."""

from __future__ import annotations

from turing_dagster.steps.qa_text import facts, grounded, stems, template_holes, unsupported_facts

POSTING = ("Registered nurse for our cardiology ward in Berlin. Patient care, medication management and teamwork. "
           "Salary 52.000 EUR, contact jobs@clinic.example, see https://clinic.example/jobs. 3 shifts a week.")


def test_stems_ignore_case_punctuation_and_simple_suffixes():
    assert stems("Managing Teams!") == stems("manage team")
    assert stems("Companies") == stems("company")
    assert stems("C++, C#") == ["c++", "c#"]


def test_items_are_grounded_by_all_their_words():
    words = set(stems(POSTING))
    assert grounded("Patient Care", words) and grounded("managing medications", words)
    assert not grounded("Brain surgery", words) and not grounded("Patient surgery", words)


def test_facts_found_by_kind_and_checked_by_value():
    found = facts("Pay: $95,000 a year, mail hr@x.example or www.x.example/apply. 12 openings.")
    assert found == [("email", "hr@x.example"), ("url", "www.x.example/apply"), ("money", "$95,000"),
                     ("number", "12")]
    count, missing = unsupported_facts("Pays 52,000 EUR for 3 shifts; write to jobs@clinic.example. "
                                       "Visit https://clinic.example/jobs or call 555-0100.", POSTING)
    assert count == 6  # the amount, 3, the address, the URL and the phone number's two parts
    assert missing == [("number", "555"), ("number", "0100")]


def test_every_spelling_of_a_kind_is_found_and_a_text_without_facts_has_none():
    assert facts("HTTPS://X.EXAMPLE/a, WWW.y.example, 120 Euros, chf 5k, 7 Dollars, gbp 3") == [
        ("url", "HTTPS://X.EXAMPLE/a"), ("url", "WWW.y.example"), ("money", "120 Euros"), ("money", "chf 5k"),
        ("money", "7 Dollars"), ("money", "gbp 3")]
    assert facts("Europe's neurology team, no amounts") == []
    assert unsupported_facts("A caring, experienced nurse.", POSTING) == (0, [])


def test_template_holes_are_this_workflows_placeholders_not_posting_text():
    literal = "Our docs use {posting.job_title} literally."
    assert template_holes("Done: {summary} and {posting.job_title} and {x}", ["summary"], literal) == ["{summary}"]
    assert template_holes('{"grade": "PASS"} {turn1}', [], "") == ["{turn1}"]
    assert template_holes(None, ["summary"], "") == []
