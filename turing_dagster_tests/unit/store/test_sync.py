"""The `workflows` table over a workflow's lifecycle: each conversation_id owned by one workflow,
refusals naming the way out, retired workflows and their names."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import yaml

from turing_dagster.store.checkpoints import Checkpoint, write_chunk
from turing_dagster.store.postings import upsert_postings
from turing_dagster.store.schema import conversations, posting_state_checkpoints, workflow_conversations, workflows
from turing_dagster.store.sync import (
    _write,
    checkpoint_counts,
    find_stored,
    retire_workflow,
    retired_under,
    stored_workflows,
    sync_workflows,
)
from turing_dagster.workflows.loader import WorkflowValidationError, parse_workflow
from turing_dagster.workflows.spec import Workflow
from turing_dagster_tests.conftest import WORKFLOWS

PYONLY = (WORKFLOWS / "pyonly.yaml").read_text()


def pyonly(file: str = "wf/pyonly.yaml", wid: int = 9002, name: str = "pyonly", base: int = 921,
           first: str = "clean") -> Workflow:
    """pyonly.yaml under another id, name, first conversation name or conversation ids (base, base+1, base+2)."""
    text = PYONLY.replace("workflow_id: 9002", f"workflow_id: {wid}").replace("name: pyonly", f"name: {name}")
    text = text.replace("name: clean", f"name: {first}")
    for i in range(3):
        text = text.replace(f"conversation_id: {921 + i}", f"conversation_id: {base + i}")
    workflow, errors = parse_workflow(yaml.safe_load(text), file)
    assert workflow is not None, errors
    return workflow


def rows(engine, table, *order):
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.select(table).order_by(*order))]


def owners(engine) -> dict[int, tuple[int | None, str]]:
    with engine.connect() as conn:
        query = sa.select(conversations.c.conversation_id, conversations.c.workflow_id, conversations.c.canonical_name)
        return {cid: (wid, name) for cid, wid, name in conn.execute(query)}


def refusal(engine, definitions) -> list[str]:
    with pytest.raises(WorkflowValidationError) as caught:
        sync_workflows(engine, definitions)
    return [str(e) for e in caught.value.errors]


def test_sync_makes_each_conversation_its_workflows(engine):
    sync_workflows(engine, [pyonly()])
    assert owners(engine) == {921: (9002, "clean"), 922: (9002, "risky"), 923: (9002, "tail")}
    sync_workflows(engine, [pyonly()])  # a re-sync is no conflict with itself
    assert len(owners(engine)) == 3


def test_a_reused_conversation_id_is_refused_and_the_old_names_stay(engine):
    sync_workflows(engine, [pyonly()])
    thief = pyonly("wf/other.yaml", wid=9100, name="other", first="scrub")
    branchy = parse_workflow(yaml.safe_load((WORKFLOWS / "branchy.yaml").read_text()), "wf/branchy.yaml")[0]
    assert refusal(engine, [thief, branchy]) == [
        "wf/other.yaml: conversation 'scrub': conversation_id: 921 belongs to workflow 9002 (pyonly) in the database; "
        "give this conversation an id of its own (so do 'risky' 922, 'tail' 923)"
    ]
    assert owners(engine)[921] == (9002, "clean")
    with engine.connect() as conn:
        synced = set(conn.execute(sa.select(workflows.c.workflow_id)).scalars())
        linked = set(conn.execute(sa.select(workflow_conversations.c.workflow_id)).scalars())
    assert synced == linked == {9001, 9002}  # the refused one wrote nothing; branchy beside it was synced


def test_a_recreated_name_is_refused_until_the_old_workflow_is_retired(engine):
    sync_workflows(engine, [pyonly()])
    upsert_postings(engine, [{"posting_id": "p1", "job_title": "t", "job_description": "d", "extra": {}}])
    write_chunk(engine, 9002, [Checkpoint("p1", 921, "completed", "x", 922, code_version="v")])
    before = rows(engine, posting_state_checkpoints, posting_state_checkpoints.c.checkpoint_id)
    again = pyonly("wf/pyonly2.yaml", wid=9012, base=951)
    assert refusal(engine, [again]) == [
        "wf/pyonly2.yaml: workflow: name: 'pyonly' already belongs to workflow_id 9002 in the database "
        "(its history stays there); `turing workflows retire 9002` frees the name"
    ]
    retired = retire_workflow(engine, 9002)
    assert retired is not None and retired.name == "pyonly~9002" and retired.retired_utc is not None
    assert retired.defined_name == "pyonly" and retired.label == "9002 (pyonly, retired)"
    assert retire_workflow(engine, 9002) is None  # once
    sync_workflows(engine, [again])
    assert [(s.workflow_id, s.name) for s in stored_workflows(engine)] == [(9002, "pyonly~9002"), (9012, "pyonly")]
    assert rows(engine, posting_state_checkpoints, posting_state_checkpoints.c.checkpoint_id) == before
    assert checkpoint_counts(engine) == {9002: 1}
    assert find_stored(engine, "9002").definition["name"] == "pyonly"  # its definition as last synced
    assert find_stored(engine, "pyonly~9002").workflow_id == 9002
    assert find_stored(engine, "pyonly").workflow_id == 9012
    assert [s.workflow_id for s in retired_under(engine, "pyonly")] == [9002]
    assert retired_under(engine, "py") == [] and find_stored(engine, "9" * 20) is None


def test_a_workflow_with_only_its_workflow_id_changed_is_one_line_with_both_ways_out(engine):
    sync_workflows(engine, [pyonly()])
    assert refusal(engine, [pyonly(wid=9012)]) == [  # the name and the conversation ids are 9002's: one problem
        "wf/pyonly.yaml: workflow: workflow_id: 9012 is not the workflow_id of 'pyonly' in the database (9002, with "
        "its history and these conversation ids): put back `workflow_id: 9002` to go on with that history, or start "
        "afresh with `turing workflows retire 9002` and conversation ids of its own"
    ]


def test_a_retired_workflow_keeps_its_ids(engine):
    sync_workflows(engine, [pyonly()])
    retire_workflow(engine, 9002)
    assert refusal(engine, [pyonly()]) == [
        "wf/pyonly.yaml: workflow: workflow_id: 9002 was retired in the database (its history is kept as "
        "'pyonly~9002'); give this workflow a workflow_id of its own",
    ]
    # a new id alone is not enough: the conversation_ids stay the retired workflow's
    assert refusal(engine, [pyonly(wid=9012)]) == [
        "wf/pyonly.yaml: conversation 'clean': conversation_id: 921 belongs to workflow 9002 (pyonly, retired) "
        "in the database; give this conversation an id of its own (so do 'risky' 922, 'tail' 923)",
    ]
    # and the name underscores are not LIKE wildcards: a name that only matches as a pattern is no hit
    assert retired_under(engine, "pyonl_") == []


def test_an_unowned_conversation_is_claimed_and_an_owned_one_never_taken(engine):
    with engine.begin() as conn:  # as a row written before owners, or by hand
        conn.execute(sa.insert(conversations).values(conversation_id=921, canonical_name="old", actor="a",
                                                     conversation_type="llm"))
    sync_workflows(engine, [pyonly()])
    assert owners(engine)[921] == (9002, "clean")
    # a concurrent sync that took the id after the refusal check still cannot relabel it
    with engine.begin() as conn:
        _write(engine, conn, pyonly("wf/other.yaml", wid=9100, name="other"))
    assert owners(engine)[921] == (9002, "clean")
