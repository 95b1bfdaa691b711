"""Mirror workflow definitions into `workflows`, `conversations` and `workflow_conversations`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from turing_dagster.store.engine import StoreError
from turing_dagster.store.schema import conversations, workflow_conversations, workflows
from turing_dagster.workflows.versions import code_version

if TYPE_CHECKING:
    from turing_dagster.workflows.spec import Workflow


def _upsert(engine: sa.Engine, table: sa.Table, rows: list[dict], keys: list[str]) -> sa.Executable:
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(table)
    updates = {c: stmt.excluded[c] for c in rows[0] if c not in keys}
    if "updated_at" in table.c:
        updates["updated_at"] = sa.func.now()
    return stmt.on_conflict_do_update(index_elements=keys, set_=updates)


def sync_workflows(engine: sa.Engine, definitions: Sequence[Workflow]) -> None:
    """Upsert every definition in one transaction; re-syncing an edited file updates, never duplicates."""
    with engine.begin() as conn:
        for wf in definitions:
            wf_row = {
                "workflow_id": wf.workflow_id,
                "name": wf.name,
                "description": wf.description,
                "source_file": wf.source_file,
                "definition": wf.model_dump(mode="json", by_alias=True, exclude={"source_file"}),
            }
            taken = conn.execute(
                sa.select(workflows.c.workflow_id).where(
                    workflows.c.name == wf.name, workflows.c.workflow_id != wf.workflow_id
                )
            ).scalar()
            if taken is not None:
                raise StoreError(
                    f"{wf.source_file}: workflow: name: {wf.name!r} already belongs to workflow_id {taken} in the database"
                )
            conn.execute(_upsert(engine, workflows, [wf_row], ["workflow_id"]), [wf_row])
            conv_rows = [
                {
                    "conversation_id": c.conversation_id,
                    "canonical_name": c.name,
                    "actor": c.actor,
                    "conversation_type": "python" if c.is_python else "llm",
                    "code_version": code_version(wf, c.name),
                }
                for c in wf.conversations
            ]
            conn.execute(_upsert(engine, conversations, conv_rows, ["conversation_id"]), conv_rows)
            link_rows = [
                {"workflow_id": wf.workflow_id, "conversation_id": c.conversation_id, "execution_order": c.execution_order}
                for c in wf.conversations
            ]
            conn.execute(
                sa.delete(workflow_conversations).where(
                    workflow_conversations.c.workflow_id == wf.workflow_id,
                    workflow_conversations.c.conversation_id.not_in([c.conversation_id for c in wf.conversations]),
                )
            )
            conn.execute(_upsert(engine, workflow_conversations, link_rows, ["workflow_id", "conversation_id"]), link_rows)
