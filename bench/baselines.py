"""Two ways of running the same postings through the same workflow without Turing's plan, for comparison.

- `naive`: each posting through all its steps before the next posting (one call at a time), so the
  server swaps models at nearly every step of every posting.
- `grouped`: the old system's grouping: in rounds, postings are grouped by the conversation they
  wait at (conversation id order, no execution-order plan), each group run with `--slots` threads;
  postings at different steps mix within a round, so models come back round after round.

Both use the engine's own prompt rendering, routing and Python actors and the official `ollama`
client, but no Dagster, no store and no checkpoints: they show the cost of the order alone. A
conversation of several turns is one chat, each turn sent with the chat so far, as Turing sends it.

    python bench/baselines.py naive|grouped POSTINGS.jsonl --host URL [--slots 4]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import ollama

from turing_dagster.steps.prompts import system_messages, turn_message
from turing_dagster.steps.python_side import as_text, resolve_python_actor
from turing_dagster.workflows.loader import load_workflows
from turing_dagster.workflows.plan import PlannedStep, WorkflowPlan
from turing_dagster.workflows.routing import next_after


class Runner:
    def __init__(self, plan: WorkflowPlan, host: str):
        self.plan, self.client = plan, ollama.Client(host=host)
        self.actors = {s.conversation.name: resolve_python_actor(s) for s in plan.steps if s.conversation.is_python}
        self.calls = 0

    def step(self, step: PlannedStep, posting: dict, outputs: dict) -> PlannedStep | None:
        """Run one step for one posting; returns the step it goes to next."""
        conv = step.conversation
        if conv.is_python:
            output = as_text(self.actors[conv.name](dict(posting), dict(outputs)))
        else:
            output = self.chat(step, posting, outputs)
        outputs[conv.name] = output
        target = next_after(self.plan.workflow, conv.name, output)
        return self.plan.by_name[target] if target else None


    def chat(self, step: PlannedStep, posting: dict, outputs: dict) -> str:
        """Every turn of the conversation in one chat; the last answer is its output."""
        conv = step.conversation
        messages, answers = system_messages(conv, posting, outputs), []
        for index, turn in enumerate(conv.turns):
            messages.append(turn_message(conv, index, posting, outputs, answers))
            reply = self.client.chat(model=step.model, messages=messages, format=turn.format,
                                     options=self.plan.workflow.options_for(conv.name))
            answers.append(reply.message.content or "")
            messages.append({"role": "assistant", "content": answers[-1]})
            self.calls += 1
        return answers[-1]


def naive(runner: Runner, postings: list[dict]) -> None:
    for posting in postings:
        outputs: dict = {}
        step = runner.plan.steps[0]
        while step is not None:
            step = runner.step(step, posting, outputs)


def grouped(runner: Runner, postings: list[dict], slots: int) -> None:
    at = {p["posting_id"]: runner.plan.steps[0] for p in postings}
    outputs: dict = defaultdict(dict)
    by_id = {p["posting_id"]: p for p in postings}
    with ThreadPoolExecutor(slots) as pool:
        while at:
            groups: dict[int, list[str]] = defaultdict(list)
            for pid, step in at.items():
                groups[step.conversation.conversation_id].append(pid)
            for conversation_id in sorted(groups):  # one round: every conversation that has postings
                step = runner.plan.by_id[conversation_id]
                pids = groups[conversation_id]
                nexts = list(pool.map(lambda pid, step=step: runner.step(step, by_id[pid], outputs[pid]), pids))
                for pid, nxt in zip(pids, nexts, strict=True):
                    if nxt is None:
                        del at[pid]
                    else:
                        at[pid] = nxt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["naive", "grouped"])
    parser.add_argument("postings")
    parser.add_argument("--host", required=True)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--workflow", default="job_posting_pipeline")
    args = parser.parse_args()
    plan = WorkflowPlan(next(w for w in load_workflows() if w.name == args.workflow))
    with open(args.postings) as f:
        postings = [json.loads(line) for line in f if line.strip()]
    runner = Runner(plan, args.host)
    if args.mode == "naive":
        naive(runner, postings)
    else:
        grouped(runner, postings, args.slots)
    print(f"{args.mode}: {len(postings)} postings, {runner.calls} calls")


if __name__ == "__main__":
    main()
