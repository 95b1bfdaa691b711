"""`make bench`'s "prompt edit on history" (bench/suite.py): what a one-word prompt edit costs on finished postings,
on a small history and on a large one that asks for the same work.

For each history, on a fresh store:

1. `turing run` of the postings (the simulator's log: every request it made). The small history is
   `--edit-postings` postings with descriptions; the large one is the same postings and `--edit-history`
   more without a description, which end their route at the first step (before the edited one): the same
   requests, `--edit-history` more finished postings to look through.
2. One word of an early prompt edited in a copy of the workflow definitions (gemma3_extract's, below).
3. A plain `turing run`: it must make no call and say that results are stale.
4. `turing plan --json`: its call count for the edited step (and whether it says the count is exact).
5. `turing run --stale`: the calls it made, from the simulator's log, and its wall and CPU seconds: the
   large history's beside the small one's is what the history adds to the same work.

Calls needed are computed without the incremental machinery under test: the edited definitions run over
the postings with descriptions on another fresh store, and every request of that run that the history
never sent is needed (the edited step's requests, and every later request whose rendered text changed);
the rest have stored answers. Each request is identified by its text (model, messages, format, options), so
the log also shows any request sent twice and any the history had answered already.
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


def _env(tmp: Path, sim, workflows: Path, files: list[Path]) -> dict:
    env = h.environment(tmp, sim.url)
    env["TURING_WORKFLOWS_DIR"] = str(workflows)
    h.turing(["init"], env)
    for path in files:
        h.turing(["postings", "load", str(path)], env)
    return env


def _one_history(name: str, tmp: Path, sim, files: list[Path], finished: int) -> dict:
    """A history run on the original definitions, then the edit, the plain run, the plan and `--stale`."""
    workflows = tmp / "workflows"
    shutil.copytree(h.ROOT / "workflow_defs", workflows)
    env = _env(tmp / "store", sim, workflows, files)
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
    step_plan = next(s for s in planned["steps"] if s["step"].endswith(STEP))
    return {"history": name, "finished_postings": finished, "history_requests": history, "made": h.chat_calls(sim),
            "history_run": {"wall": first.seconds, "calls": len(history)},
            "plain_run": {"wall": plain.seconds, "calls": plain_calls, "says_stale": "stale" in plain.stdout.lower(),
                          "stdout_tail": plain.stdout.strip().splitlines()[-3:]},
            "plan": {"edited_step_calls": step_plan["calls"], "exact": step_plan["calls_exact"],
                     "total_calls": sum(s["calls"] for s in planned["steps"])},
            "stale_run": {"wall": stale.seconds, "cpu": stale.cpu_seconds, "peak_rss_mb": stale.peak_rss_mb}}


def _judged(plan, run: dict, edited: list[dict]) -> dict:
    """The --stale run's requests beside those needed (the edited definitions' requests the history never sent)."""
    history, made = run.pop("history_requests"), run.pop("made")
    texts = [h.request_text(c) for c in made]
    needed = {h.request_text(c): _step_of(plan, c) for c in edited if h.request_text(c) not in history}
    per_step_made = Counter(_step_of(plan, c) for c in made)
    run["stale_run"]["calls"] = len(made)
    return {
        **run, "calls_needed": len(needed), "ratio": len(made) / len(needed) if needed else None,
        "sent_twice": len(texts) - len(set(texts)), "answered_before": len(set(texts) & history),
        "needed_not_sent": len(set(needed) - set(texts)), "sent_not_needed": len(set(texts) - set(needed)),
        "per_step": {name: {"made": per_step_made.get(name, 0), "needed": n}
                     for name, n in sorted(Counter(needed.values()).items())}
                    | {name: {"made": n, "needed": 0} for name, n in per_step_made.items() if name not in needed.values()},
        "_history": history,
    }


def prompt_edit(args, plan, root: Path) -> dict:
    tmp = root / "edit"
    postings = h.postings_file(tmp, args.edit_postings, prefix="e")
    histories = [("small", [postings], args.edit_postings)]
    if args.edit_history:
        empty = h.postings_file(tmp, args.edit_history, prefix="x", content_share=0)
        histories.append(("large", [postings, empty], args.edit_postings + args.edit_history))
    with simulator(args.load_seconds, args.request_seconds, args.slots) as sim:
        runs = [_one_history(name, tmp / name, sim, files, n) for name, files, n in histories]
        fresh_defs = tmp / "edited"
        shutil.copytree(h.ROOT / "workflow_defs", fresh_defs)
        edit_prompt(fresh_defs / f"{h.WORKFLOW}.yaml", STEP, OLD, NEW)
        fresh = _env(tmp / "fresh", sim, fresh_defs, [postings])
        sim.reset()
        h.turing(["run", h.WORKFLOW], fresh)
        edited = h.chat_calls(sim)
    rows = [_judged(plan, run, edited) for run in runs]
    small_history = rows[0]["_history"]
    for r in rows:
        # the large history's extra postings end before the edited step: its history asked what the small one's did
        r["same_history_requests"] = r.pop("_history") == small_history
        for key in ("wall", "cpu"):
            r["stale_run"][f"{key}_over_small"] = r["stale_run"][key] / rows[0]["stale_run"][key]
    return {"postings": args.edit_postings, "edited": {"conversation": STEP, "from": OLD, "to": NEW}, "rows": rows}
