"""A step's read of its wave (steps/wave_state.py): an LLM step reads only the outputs its prompts name,
a Python actor every output before it."""

from __future__ import annotations

from turing_dagster.steps.wave_state import load_wave, outputs_read
from turing_dagster.store.checkpoints import Checkpoint, write_chunk
from turing_dagster.store.postings import upsert_postings
from turing_dagster.store.waves import admit
from turing_dagster.workflows.loader import parse_workflow
from turing_dagster.workflows.plan import WorkflowPlan


def _plan() -> WorkflowPlan:
    steps = [
        ("a", "gemma2", {"prompt": "describe {posting.job_title}"}),
        ("b", "gemma2", {"prompt": "shorten {a}"}),
        ("c", "gemma2", {"system": "judge of {b}", "prompt": "rate {posting.job_title}"}),
        ("d", "python:turing_dagster_tests.actors:shout", {}),
        ("e", "gemma2", {"prompt": "{posting.job_title}", "instructions": None}),
    ]
    data = {"workflow_id": 78, "name": "reads", "conversations": [
        {"conversation_id": 780 + i, "name": name, "execution_order": i + 1, "actor": actor, **texts}
        for i, (name, actor, texts) in enumerate(steps)]}
    data["conversations"][-1].pop("instructions")
    wf, errors = parse_workflow(data)
    assert not errors, errors
    return WorkflowPlan(wf)


def test_an_llm_step_names_what_it_reads_and_a_python_actor_reads_everything():
    plan = _plan()
    assert [outputs_read(plan, i) for i in range(5)] == [set(), {"a"}, {"b"}, None, set()]


def test_the_wave_read_carries_just_those_outputs(engine):
    plan = _plan()
    upsert_postings(engine, [{"posting_id": f"p{i}", "job_title": "t", "job_description": "d"} for i in range(3)])
    (wave,) = admit(engine, 78, 10)
    ids = [s.conversation.conversation_id for s in plan.steps]

    def finish(steps):
        write_chunk(engine, 78, [
            Checkpoint(pid, step.conversation.conversation_id, "completed", f"{step.conversation.name} of {pid}",
                       ids[step.index + 1], step.version, wave.key)
            for pid in wave.posting_ids for step in steps])

    finish(plan.steps[:2])
    at_c = load_wave(engine, plan, wave.key, 2, only=outputs_read(plan, 2))
    assert [(ps.standing.at, ps.outputs) for ps in at_c] == [(2, {"b": f"b of {p}"}) for p in sorted(wave.posting_ids)]
    finish(plan.steps[2:4])
    at_e = load_wave(engine, plan, wave.key, 4, only=outputs_read(plan, 4))
    assert [(ps.standing.at, ps.outputs) for ps in at_e] == [(4, {})] * 3
    everything = load_wave(engine, plan, wave.key, 4)  # what a Python actor at e would be handed
    assert everything[0].outputs == {n: f"{n} of p0" for n in "abcd"}
