"""`make bench`'s "prompt edit on history" (bench/suite.py): what a one-word prompt edit costs on finished postings.

1. `turing run` over N postings on a fresh store: the history (the simulator's log: every request it made).
2. One word of an early prompt edited in a copy of the workflow definitions (gemma3_extract's, below).
3. A plain `turing run`: it must make no call and say that results are stale.
4. `turing plan --json`: its call count for the edited step (and whether it says the count is exact).
5. `turing run --stale`: the calls it made, from the simulator's log.

Calls needed are computed without the incremental machinery under test: the edited definitions run over
the same postings on a second fresh store, and every request of that run that the history never sent is
needed (the edited step's requests, and every later request whose rendered text changed); the rest have
stored answers. Each request is identified by its text (model, messages, format, options), so the log
also shows any request sent twice and any the history had answered already.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

from bench import harness as h
from bench.side import simulator

STEP = "gemma3_extract"
OLD, NEW = "Keep it under 200 words.", "Keep it below 200 words."  # one word of the edited step's prompt


def edit_prompt(path: Path, conversation: str, old: str, new: str) -> None:
    """Replace `old` by `new` once, inside `conversation`'s block of the definition file."""
    text = path.read_text()
    start = text.index(f"name: {conversation}\n")
    end = text.find("- conversation_id:", start)
    end = len(text) if end < 0 else end
    block = text[start:end]
    if block.count(old) != 1:
        raise RuntimeError(f"{path}: {old!r} is not once in {conversation}'s definition")
    path.write_text(text[:start] + block.replace(old, new) + text[end:])


def _step_of(plan, body: dict) -> str:
    """The conversation a request belongs to, by its system message (each conversation has its own)."""
    system = body["messages"][0]["content"] if body["messages"][0]["role"] == "system" else ""
    for step in plan.steps:
        conv = step.conversation
        if conv.system and system.strip() == conv.system.strip():
            return conv.name
    return "?"


def _env(tmp: Path, sim, workflows: Path, postings: Path) -> dict:
    env = h.environment(tmp, sim.url)
    env["TURING_WORKFLOWS_DIR"] = str(workflows)
    h.turing(["init"], env)
    h.turing(["postings", "load", str(postings)], env)
    return env


def prompt_edit(args, plan, root: Path) -> dict:
    tmp = root / "edit"
    workflows = tmp / "workflows"
    shutil.copytree(h.ROOT / "workflow_defs", workflows)
    postings = h.postings_file(tmp, args.edit_postings, prefix="e")
    with simulator(args.load_seconds, args.request_seconds, args.slots) as sim:
        env = _env(tmp / "history", sim, workflows, postings)
        sim.reset()
        first = h.turing(["run", h.WORKFLOW], env)
        history = {h.request_text(c) for c in h.chat_calls(sim)}
        edit_prompt(workflows / f"{h.WORKFLOW}.yaml", STEP, OLD, NEW)
        sim.reset()
        plain = h.turing(["run", h.WORKFLOW], env)
        plain_calls = len(h.chat_calls(sim))
        planned = json.loads(h.turing(["plan", h.WORKFLOW, "--json"], env).stdout)
        sim.reset()
        stale = h.turing(["run", h.WORKFLOW, "--stale"], env)
        made = h.chat_calls(sim)
        fresh = _env(tmp / "fresh", sim, workflows, postings)
        sim.reset()
        h.turing(["run", h.WORKFLOW], fresh)
        edited = h.chat_calls(sim)
    texts = [h.request_text(c) for c in made]
    needed = {h.request_text(c): _step_of(plan, c) for c in edited if h.request_text(c) not in history}
    step_plan = next(s for s in planned["steps"] if s["step"].endswith(STEP))
    per_step_made = Counter(_step_of(plan, c) for c in made)
    return {
        "postings": args.edit_postings, "edited": {"conversation": STEP, "from": OLD, "to": NEW},
        "history_run": {"wall": first.seconds, "calls": len(history)},
        "plain_run": {"wall": plain.seconds, "calls": plain_calls, "says_stale": "stale" in plain.stdout.lower(),
                      "stdout_tail": plain.stdout.strip().splitlines()[-3:]},
        "plan": {"edited_step_calls": step_plan["calls"], "exact": step_plan["calls_exact"],
                 "total_calls": sum(s["calls"] for s in planned["steps"])},
        "stale_run": {"wall": stale.seconds, "calls": len(made)},
        "calls_needed": len(needed),
        "ratio": len(made) / len(needed) if needed else None,
        "sent_twice": len(texts) - len(set(texts)),
        "answered_before": len(set(texts) & history),
        "needed_not_sent": len(set(needed) - set(texts)),
        "sent_not_needed": len(set(texts) - set(needed)),
        "per_step": {name: {"made": per_step_made.get(name, 0), "needed": n}
                     for name, n in sorted(Counter(needed.values()).items())}
                    | {name: {"made": n, "needed": 0} for name, n in per_step_made.items() if name not in needed.values()},
    }
