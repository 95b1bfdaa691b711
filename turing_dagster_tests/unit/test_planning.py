"""Plan order: execution order first, models grouped so a run loads each as few times as possible."""

from __future__ import annotations

from turing_dagster.workflows.loader import parse_workflow
from turing_dagster.workflows.plan import WorkflowPlan


def _plan(*convs: tuple[str, int, str]) -> WorkflowPlan:
    data = {
        "workflow_id": 5,
        "name": "p",
        "conversations": [
            {
                "conversation_id": i + 1,
                "name": name,
                "execution_order": order,
                "actor": actor,
                **({} if actor.startswith("python:") else {"prompt": "x"}),
                # a rule to every later conversation: the graph reaches all of them, none by default
                "next": [{"when": {"contains": f"to {n}"}, "goto": n} for n, o, _ in convs if o > order]
                + [{"goto": "END"}],
            }
            for i, (name, order, actor) in enumerate(convs)
        ],
    }
    wf, errors = parse_workflow(data)
    assert not errors, errors
    return WorkflowPlan(wf)


def _loads(plan: WorkflowPlan) -> int:
    models = [s.model for s in plan.steps if s.model]
    return sum(1 for i, m in enumerate(models) if i == 0 or models[i - 1] != m)


def test_same_order_groups_put_the_next_orders_model_last():
    plan = _plan(("a", 1, "gemma3:4b"), ("b", 2, "gemma2"), ("c", 2, "qwen2.5"), ("d", 3, "qwen2.5"))
    assert [s.conversation.name for s in plan.steps] == ["a", "b", "c", "d"]
    plan = _plan(("a", 1, "gemma3:4b"), ("b", 2, "qwen2.5"), ("c", 2, "gemma2"), ("d", 3, "qwen2.5"))
    assert [s.model for s in plan.steps] == ["gemma3:4b", "gemma2", "qwen2.5", "qwen2.5"] and _loads(plan) == 3


def test_the_loaded_model_continues_and_python_steps_do_not_break_a_run():
    plan = _plan(("a", 1, "gemma2"), ("p", 2, "python:m.x:f"), ("b", 2, "qwen2.5"), ("c", 2, "gemma2"), ("d", 3, "gemma2"))
    assert [s.conversation.name for s in plan.steps] == ["a", "p", "c", "b", "d"]
    # gemma2, gemma2 | qwen2.5 | gemma2: three loads; qwen last would not help here since d needs gemma2
    assert _loads(plan) == 3


def test_versions_are_cumulative_along_the_plan():
    base = _plan(("a", 1, "gemma2"), ("b", 2, "qwen2.5"), ("c", 3, "gemma2"))
    assert len({s.version for s in base.steps}) == 3
    assert [s.index for s in base.steps] == [0, 1, 2]


def test_contiguous_ranges_follow_the_instance_order_and_skip_unknown_waves():
    from turing_dagster.dagster_defs.runner import contiguous_ranges

    ordered = ["w000001", "w000002", "w000003", "w000004", "w000005"]
    assert contiguous_ranges(["w000005", "w000001", "w000002", "w000004"], ordered) == [
        ("w000001", "w000002"),
        ("w000004", "w000005"),
    ]
    assert contiguous_ranges(["w000003", "w000009"], ordered) == [("w000003", "w000003")]
    assert contiguous_ranges([], ordered) == []


def _versions(options_of: dict[str, dict]) -> dict[str, str]:
    convs = [("a", 1, "gemma3:4b"), ("b", 2, "gemma2"), ("c", 3, "qwen2.5")]
    plan = _plan(*convs)
    data = plan.workflow.model_dump(by_alias=True)
    for conv in data["conversations"]:
        conv["options"] = options_of.get(conv["name"])
    wf, errors = parse_workflow(data)
    assert not errors, errors
    return {s.conversation.name: s.version for s in WorkflowPlan(wf).steps}


def test_step_versions_are_cumulative_in_plan_order():
    base = _versions({})
    edited_a = _versions({"a": {"temperature": 0.5}})
    edited_c = _versions({"c": {"temperature": 0.5}})
    # editing a reruns a and everything after it: their checkpoints were computed from a's old output
    assert {n for n in base if edited_a[n] != base[n]} == {"a", "b", "c"}
    # editing c leaves the steps before it current
    assert {n for n in base if edited_c[n] != base[n]} == {"c"}
