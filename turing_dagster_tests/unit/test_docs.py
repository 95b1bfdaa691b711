"""The reference pages stay complete and self-contained: every key of the workflow language is documented in
docs/workflows.md, its example workflow loads, its links land on a heading, and no page under docs/ leans
on a document outside the repository."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import yaml
from pydantic import BaseModel

from turing_dagster.workflows import spec
from turing_dagster.workflows.loader import parse_workflow

DOCS = Path(__file__).resolve().parents[2] / "docs"
WORKFLOWS = DOCS / "workflows.md"
_FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.S)
_SPAN = re.compile(r"`([^`\n]+)`")


def _language_models() -> list[type[BaseModel]]:
    """Every pydantic model the spec module defines or imports (Turn, ValidateSpec, QASpec among them)."""
    return [obj for _, obj in inspect.getmembers(spec, inspect.isclass)
            if issubclass(obj, BaseModel) and obj is not BaseModel and obj.model_fields]


def _code_words(text: str) -> set[str]:
    """The identifiers that occur in code: fenced blocks and inline spans."""
    code = _FENCE.findall(text) + _SPAN.findall(_FENCE.sub("", text))
    return {w for chunk in code for w in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", chunk)}


def test_every_key_of_every_workflow_model_is_documented() -> None:
    models = _language_models()
    assert {"Workflow", "Conversation", "BranchRule", "Turn"} <= {m.__name__ for m in models}
    documented = _code_words(WORKFLOWS.read_text(encoding="utf-8"))
    # the YAML spelling: `validate` and `json` are aliases of fields that would shadow Python names
    missing = sorted(f"{m.__name__}.{f.alias or name}" for m in models for name, f in m.model_fields.items()
                     if (f.alias or name) not in documented)
    assert not missing, f"keys not documented in docs/workflows.md: {missing}"


def test_the_complete_example_in_the_reference_loads() -> None:
    blocks = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", WORKFLOWS.read_text(encoding="utf-8"), re.S)]
    examples = [b for b in blocks if isinstance(b, dict) and "workflow_id" in b]
    assert examples
    for example in examples:
        workflow, errors = parse_workflow(example, "docs/workflows.md")
        assert workflow is not None and not errors, [str(e) for e in errors]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^a-z0-9 _-]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(text: str) -> set[str]:
    headings = re.findall(r"^#+ (.+)$", _FENCE.sub("", text), re.M)
    return {_slug(h) for h in headings} | set(re.findall(r'<a id="([^"]+)"></a>', text))


def test_links_between_the_reference_pages_land_on_a_heading() -> None:
    pages = {p.name: p.read_text(encoding="utf-8") for p in (WORKFLOWS, DOCS / "glossary.md")}
    broken = []
    for name, text in pages.items():
        for target, anchor in re.findall(r"\]\(([a-z_]*\.md)?#([^)]+)\)", text):
            if anchor not in _anchors(pages.get(target or name, "")):
                broken.append(f"{name}: {target or name}#{anchor}")
    assert not broken


def test_no_page_under_docs_refers_to_the_spec() -> None:
    mentions = []
    for path in sorted(p for p in DOCS.rglob("*") if p.is_file()):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # pictures
        mentions += [f"{path.relative_to(DOCS)}:{n}" for n, line in enumerate(text.splitlines(), 1) if "SPEC" in line]
    assert not mentions, f"docs must describe the behaviour themselves, not point at a SPEC: {mentions}"
