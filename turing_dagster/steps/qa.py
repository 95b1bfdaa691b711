"""QA of a conversation's stored results for some waves: the findings behind the asset checks and `turing qa`.

No Dagster here: `dagster_defs/checks.py` turns findings into asset check results, `cli/qa_cmd.py` prints them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import sqlalchemy as sa

from turing_dagster.ollama.context import DEFAULT_NUM_KEEP, half_window
from turing_dagster.steps.qa_text import grounded, stems, template_holes, unsupported_facts
from turing_dagster.steps.wave_state import LOADED
from turing_dagster.store.checkpoints import Checkpoint, checkpoints_for
from turing_dagster.store.waves import load_postings, wave_keys, wave_members
from turing_dagster.workflows.checks import check_output
from turing_dagster.workflows.fields import parse_json_path
from turing_dagster.workflows.placeholders import PLACEHOLDER_RE
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan, asset_name
from turing_dagster.workflows.rules import SAVE_TO_COLUMNS
from turing_dagster.workflows.spec import Conversation

OK, WARN, ERROR = "OK", "WARN", "ERROR"
SHOWN = 20  # offenders listed in metadata and in the terminal; the count is always complete
KEPT = 1000  # offenders kept per finding: memory stays bounded over any range (the count is complete)


@dataclass
class Finding:
    """One check of one conversation over some waves; `offenders` are (posting_id, what is wrong)."""

    check: str
    conversation: str
    asset: str
    description: str
    severity: str  # OK, WARN or ERROR
    checked: int  # postings, items or facts looked at
    unit: str
    offenders: list[tuple[str, str]] = field(default_factory=list)
    waves: list[str] = field(default_factory=list)
    thresholds: tuple[float, float] | None = None  # (warn, error) shares, for the hallucination checks
    offending: int = -1  # all offenders, also those not kept; -1: len(offenders)

    def __post_init__(self) -> None:
        if self.offending < 0:
            self.offending = len(self.offenders)

    @property
    def passed(self) -> bool:
        return self.severity == OK

    @property
    def share(self) -> float:
        return self.offending / self.checked if self.checked else 0.0

    def metadata(self, shown: int = SHOWN) -> dict[str, Any]:
        """Plain values: counts, the share, the thresholds and the first `shown` offenders."""
        data: dict[str, Any] = {
            "checked": self.checked,
            "unit": self.unit,
            "offending": self.offending,
            "share": round(self.share, 4),
            "waves": ", ".join(self.waves),
            "offenders": [f"{pid}: {what}" for pid, what in self.offenders[:shown]],
            "offenders_not_shown": max(0, self.offending - shown),
        }
        if self.thresholds:
            data["warn_above"], data["error_above"] = self.thresholds
        return data


@dataclass
class _Inputs:
    """What every check reads: the current completed rows of the waves and the postings' own text."""

    rows: list[Checkpoint]
    read_texts: Callable[[], dict[str, str]]  # read when a check needs them (most conversations' never do)
    names: list[str]
    failed: list[Checkpoint] = field(default_factory=list)  # current failed rows: fits_context reads them
    num_ctx: int | None = None  # the workflow's num_ctx for the conversation, if it sets one

    @cached_property
    def texts(self) -> dict[str, str]:
        return self.read_texts()


def _last_turn_json(conv: Conversation) -> bool:
    last = conv.turns[-1]
    return last.format is not None or (last.checks is not None and last.checks.json_schema is not None)


def _holes(conv: Conversation, data: _Inputs) -> tuple[int, list[tuple[str, str]]]:
    found = []
    for cp in data.rows:
        texts = [cp.output] + [t.get(k) for t in cp.snapshot.get("turns", []) for k in ("prompt", "answer")]
        if not any(text and PLACEHOLDER_RE.search(text) for text in texts):
            continue  # no placeholder shape: the posting's text is not needed to explain one
        holes = sorted({h for text in texts for h in template_holes(text, data.names, data.texts[cp.posting_id])})
        if holes:
            found.append((cp.posting_id, "unresolved " + " ".join(holes)))
    return len(data.rows), found


def _empty(conv: Conversation, data: _Inputs) -> tuple[int, list[tuple[str, str]]]:
    return len(data.rows), [(cp.posting_id, "empty output") for cp in data.rows if not (cp.output or "").strip()]


def _json(conv: Conversation, data: _Inputs) -> tuple[int, list[tuple[str, str]]]:
    last = conv.turns[-1]
    found = [(cp.posting_id, reason) for cp in data.rows if (reason := check_output(last, cp.output or ""))]
    return len(data.rows), found


def _items(value: Any) -> list[str]:
    if isinstance(value, list):
        return [s for v in value for s in _items(v)]
    return [str(value)] if isinstance(value, (str, int, float)) and not isinstance(value, bool) else []


def _grounded(conv: Conversation, data: _Inputs) -> tuple[int, list[tuple[str, str]]]:
    qa = conv.qa
    path = parse_json_path(qa.grounded)
    allowed = {" ".join(stems(a)) for a in qa.allow}
    checked, found = 0, []
    for cp in data.rows:
        try:
            items = [s for m in path.find(json.loads(cp.output or "")) for s in _items(m.value)]
        except ValueError:
            continue  # not JSON: the valid_json check reports it
        posting = set(stems(data.texts[cp.posting_id]))
        for item in items:
            normal = " ".join(stems(item))
            if not normal or normal in allowed:
                continue
            checked += 1
            if not grounded(item, posting):
                found.append((cp.posting_id, f"{item!r} not in the posting"))
    return checked, found


def _facts(conv: Conversation, data: _Inputs) -> tuple[int, list[tuple[str, str]]]:
    allowed = {a.lower() for a in conv.qa.allow}
    checked, found = 0, []
    for cp in data.rows:
        count, missing = unsupported_facts(cp.output or "", data.texts[cp.posting_id])
        missing = [(kind, value) for kind, value in missing if value.lower() not in allowed]
        checked += count
        found += [(cp.posting_id, f"{kind} {value!r} not in the posting") for kind, value in missing]
    return checked, found


def _fits(conv: Conversation, data: _Inputs) -> tuple[int, list[tuple[str, str]]]:
    found = []
    for cp in data.rows:
        context = cp.snapshot.get("context") or {}
        num_ctx = context.get("num_ctx") or data.num_ctx
        if context.get("cut"):
            found.append((cp.posting_id, "stored although the server cut its prompt"))
        elif not context and num_ctx and cp.tokens_in and cp.tokens_in in ({num_ctx, num_ctx - 1} | half_window(
                num_ctx, DEFAULT_NUM_KEEP)):
            # stored before the context guard: a prompt count at the window's cut lengths was cut
            found.append((cp.posting_id, f"the server evaluated {cp.tokens_in} prompt tokens of num_ctx {num_ctx}: "
                                         "its prompt was most likely cut"))
    for cp in data.failed:
        if "does not fit num_ctx" in (cp.error or "") or "prompt cut" in (cp.error or ""):
            found.append((cp.posting_id, f"refused: {cp.error}"))
    return len(data.rows) + len(data.failed), found


Check = Callable[[Conversation, _Inputs], tuple[int, list[tuple[str, str]]]]
# name -> (description, applies to the conversation, the check, unit, uses the qa thresholds)
CHECKS: dict[str, tuple[str, Callable[[Conversation], bool], Check, str, bool]] = {
    "no_template_holes": ("No stored prompt or output holds a placeholder of this workflow.",
                          lambda c: True, _holes, "postings", False),
    "no_empty_output": ("No completed posting has an empty output.", lambda c: True, _empty, "postings", False),
    "valid_json": ("Completed outputs are JSON and match the schema the conversation asks for.",
                   _last_turn_json, _json, "postings", False),
    "grounded_items": ("Items at qa.grounded occur in the posting's text (case, punctuation, stemming aside).",
                       lambda c: c.qa is not None and c.qa.grounded is not None, _grounded, "items", True),
    "facts_in_posting": ("Numbers, money amounts, e-mail addresses and URLs in the output occur in the posting.",
                         lambda c: c.qa is not None and c.qa.facts, _facts, "facts", True),
    "fits_context": ("Every prompt fitted the model's context: no result is stored from a prompt the server cut "
                     "(ERROR); postings refused or cut for their size are listed (WARN).",
                     lambda c: not c.is_python, _fits, "postings", False),
}


def applicable_checks(conv: Conversation) -> list[str]:
    """The checks that make sense for this conversation (python actors get them too)."""
    return [name for name, (_, applies, *_rest) in CHECKS.items() if applies(conv)]


def _severity(conv: Conversation, share: float, offending: int, thresholded: bool,
              offenders: list[tuple[str, str]] = ()) -> str:
    if offending and all(what.startswith("refused: ") for _, what in offenders):
        return WARN  # handled as it should be (not stored), but the postings need a longer context or `overflow`
    if not thresholded:
        return ERROR if offending else OK
    qa = conv.qa
    return ERROR if share > qa.error else WARN if share > qa.warn else OK


def _inputs(engine: sa.Engine, plan: WorkflowPlan, step: PlannedStep, waves: Sequence[str]) -> _Inputs:
    workflow_id, conv = plan.workflow.workflow_id, step.conversation
    members = [pid for ids in wave_members(engine, workflow_id, waves).values() for pid in ids]
    LOADED.saw(len(members))
    current = [
        cp for cp in checkpoints_for(engine, workflow_id, members, [conv.conversation_id]).values()
        if cp.code_version == step.version and cp.wave_key in waves
    ]
    rows = sorted((cp for cp in current if cp.status == "completed"), key=lambda cp: cp.posting_id)
    failed = sorted((cp for cp in current if cp.status == "failed"), key=lambda cp: cp.posting_id)
    num_ctx = plan.workflow.options_for(conv.name).get("num_ctx")
    return _Inputs(rows, lambda: _texts(load_postings(engine, [cp.posting_id for cp in rows])),
                   [c.name for c in plan.workflow.conversations], failed,
                   num_ctx if isinstance(num_ctx, int) else None)


def _texts(postings: dict[str, dict[str, Any]]) -> dict[str, str]:
    # the posting's own fields, not what steps wrote back into it (save_to columns)
    return {pid: "\n".join(str(v) for k, v in p.items() if isinstance(v, str) and k not in SAVE_TO_COLUMNS)
            for pid, p in postings.items()}


def _tally(conv: Conversation, data: _Inputs, totals: dict[str, tuple[int, int, list[tuple[str, str]]]]) -> None:
    for name in totals:
        checked, offenders = CHECKS[name][2](conv, data)
        seen, offending, kept = totals[name]
        totals[name] = (seen + checked, offending + len(offenders), kept + offenders[: KEPT - len(kept)])


def _findings(conv: Conversation, totals: dict[str, tuple[int, int, list[tuple[str, str]]]],
              waves: list[str]) -> list[Finding]:
    findings = []
    for name, (checked, offending, kept) in totals.items():
        description, _, _, unit, thresholded = CHECKS[name]
        finding = Finding(name, conv.name, asset_name(conv), description, OK, checked, unit, kept, waves,
                          (conv.qa.warn, conv.qa.error) if thresholded else None, offending)
        finding.severity = _severity(conv, finding.share, offending, thresholded, kept)
        findings.append(finding)
    return findings


def evaluate(engine: sa.Engine, plan: WorkflowPlan, step: PlannedStep, waves: Sequence[str]) -> list[Finding]:
    """Every applicable check of one conversation over the current completed results of `waves`,
    read one wave at a time, so a range (or `turing qa` over years of waves) holds one wave's results."""
    conv, waves = step.conversation, sorted(waves)
    totals: dict[str, tuple[int, int, list[tuple[str, str]]]] = {name: (0, 0, []) for name in applicable_checks(conv)}
    for wave in waves:
        _tally(conv, _inputs(engine, plan, step, [wave]), totals)
    return _findings(conv, totals, waves)


def evaluate_rows(plan: WorkflowPlan, step: PlannedStep, rows: list[Checkpoint],
                  postings: dict[str, dict[str, Any]]) -> list[Finding]:
    """The same checks over rows held in memory (`turing try`: results before and after an edit)."""
    conv = step.conversation
    totals: dict[str, tuple[int, int, list[tuple[str, str]]]] = {name: (0, 0, []) for name in applicable_checks(conv)}
    completed = [cp for cp in rows if cp.status == "completed"]
    failed = [cp for cp in rows if cp.status == "failed"]
    names = [c.name for c in plan.workflow.conversations]
    _tally(conv, _Inputs(completed, lambda: _texts(postings), names, failed), totals)
    return _findings(conv, totals, [])


def evaluate_workflow(engine: sa.Engine, plan: WorkflowPlan, waves: Sequence[str] | None = None) -> list[Finding]:
    """Every check of every conversation, over `waves` (default: all of the workflow's waves)."""
    waves = list(waves) if waves is not None else wave_keys(engine, plan.workflow.workflow_id)
    return [f for step in plan.steps for f in evaluate(engine, plan, step, waves)]
