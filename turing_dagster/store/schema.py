"""Turing's tables, one SQLAlchemy Core schema for SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from turing_dagster.workflows.rules import SAVE_TO_COLUMNS

SCHEMA_VERSION = 6

# JSONB on PostgreSQL so that `state_snapshot->>'current_conversation_id'` works as in the old system.
Json = sa.JSON().with_variant(JSONB(), "postgresql")
# SQLite only autoincrements an INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# Columns every postings file may set directly; anything else goes into `extra`.
POSTING_COLUMNS = ("posting_id", "job_title", "job_description", "enabled")

STATUSES = ("completed", "skipped", "failed")

metadata = sa.MetaData()

schema_version = sa.Table(
    "turing_schema_version",
    metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

postings = sa.Table(
    "postings",
    metadata,
    sa.Column("posting_id", sa.Text, primary_key=True),
    sa.Column("job_title", sa.Text),
    sa.Column("job_description", sa.Text),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    *(sa.Column(name, sa.Text) for name in SAVE_TO_COLUMNS),
    sa.Column("extra", Json, nullable=False, default=dict),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

workflows = sa.Table(
    "workflows",
    metadata,
    sa.Column("workflow_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.Text, nullable=False, unique=True),
    sa.Column("description", sa.Text),
    sa.Column("source_file", sa.Text),
    sa.Column("definition", Json),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # schema v4: set by `turing workflows retire`, which also renames it NAME~WORKFLOW_ID to free its name
    sa.Column("retired_at", sa.DateTime(timezone=True)),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("conversation_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("canonical_name", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("conversation_type", sa.Text, nullable=False),  # llm | python
    sa.Column("code_version", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # schema v4: the workflow that owns this conversation_id; sync refuses it to any other workflow,
    # whose checkpoints would otherwise take this row's name (NULL: unowned, the next sync claims it)
    sa.Column("workflow_id", sa.Integer, sa.ForeignKey("workflows.workflow_id")),
)

workflow_conversations = sa.Table(
    "workflow_conversations",
    metadata,
    sa.Column("workflow_id", sa.Integer, sa.ForeignKey("workflows.workflow_id"), primary_key=True),
    sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.conversation_id"), primary_key=True),
    sa.Column("execution_order", sa.Integer, nullable=False),
)

waves = sa.Table(
    "waves",
    metadata,
    sa.Column("workflow_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("wave_key", sa.Text, primary_key=True),
    sa.Column("posting_count", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # one run at a time per wave (schema v2): who holds it, and until when (naive UTC) unless renewed
    sa.Column("claimed_by", sa.Text),
    sa.Column("claimed_until", sa.DateTime()),
    # schema v3: the plan version (last step's cumulative version) under which every member reached
    # the end; `turing run` then skips the wave without reading its checkpoints until definitions change
    sa.Column("finished_version", sa.Text),
    # schema v5: `finished_version` means "settled": no work for a plain run under that plan version (any
    # checkpoint written into the wave clears it); how many members were stale when it was settled
    sa.Column("stale_postings", sa.Integer),
    # schema v6: and how many a failure held until `--retry-failed`, so a run counts them from the marks
    sa.Column("held_postings", sa.Integer),
    sa.Index("ix_waves_finished", "workflow_id", "finished_version"),
)

wave_postings = sa.Table(
    "wave_postings",
    metadata,
    # a posting joins at most one wave per workflow
    sa.Column("workflow_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("posting_id", sa.Text, sa.ForeignKey("postings.posting_id"), primary_key=True),
    sa.Column("wave_key", sa.Text, nullable=False),
    sa.Index("ix_wave_postings_wave", "workflow_id", "wave_key"),
)

posting_state_checkpoints = sa.Table(
    "posting_state_checkpoints",
    metadata,
    sa.Column("checkpoint_id", BigId, primary_key=True, autoincrement=True),
    sa.Column("posting_id", sa.Text, sa.ForeignKey("postings.posting_id"), nullable=False),
    sa.Column("workflow_id", sa.Integer, nullable=False),
    sa.Column("conversation_id", sa.Integer, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("output", sa.Text),
    sa.Column("state_snapshot", Json, nullable=False),
    sa.Column("wave_key", sa.Text),
    # cumulative version of this conversation and everything it reads: a stale row is redone
    sa.Column("code_version", sa.Text),
    sa.Column("error", sa.Text),
    sa.Column("attempts", sa.Integer),
    sa.Column("latency_ms", sa.Integer),
    sa.Column("tokens_in", sa.Integer),
    sa.Column("tokens_out", sa.Integer),
    # schema v5: the key of the request whose answer this is (the last turn's for a chat), and whether
    # that answer came from llm_answers instead of the model
    sa.Column("request_key", sa.Text),
    sa.Column("reused", sa.Boolean),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    # one row per (workflow, posting, conversation): a rewrite replaces it with a newer checkpoint_id
    sa.UniqueConstraint("workflow_id", "posting_id", "conversation_id", name="uq_checkpoint_step"),
    sa.CheckConstraint("status IN ('completed', 'skipped', 'failed')", name="ck_checkpoint_status"),
    sa.Index("ix_checkpoints_posting", "posting_id", "checkpoint_id"),
    sa.Index("ix_checkpoints_conversation", "workflow_id", "conversation_id", "status"),
    # schema v3: status counts per (conversation, version) read from the index alone
    sa.Index("ix_checkpoints_version", "workflow_id", "conversation_id", "code_version", "status"),
)

# schema v5: every model answer by the key of the request that got it (ollama/keys.py), reused by any later
# request with that key: a change costs only the requests whose text changed
llm_answers = sa.Table(
    "llm_answers",
    metadata,
    sa.Column("request_key", sa.Text, primary_key=True),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("model_digest", sa.Text),
    sa.Column("output", sa.Text, nullable=False),
    sa.Column("tokens_in", sa.Integer),
    sa.Column("tokens_out", sa.Integer),
    sa.Column("latency_ms", sa.Integer),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

# schema v5: one row per step of a run: what it did (the IO manager persists it when the step ends), the
# model time it took (`turing plan` estimates from it) and its Ollama calls (the run's GPU timeline)
run_steps = sa.Table(
    "run_steps",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Text, nullable=False),
    sa.Column("workflow_id", sa.Integer, nullable=False),
    sa.Column("conversation_id", sa.Integer, nullable=False),
    sa.Column("waves", sa.Text, nullable=False),
    sa.Column("model", sa.Text),
    sa.Column("started", sa.Float, nullable=False),  # epoch seconds, as the call records
    sa.Column("finished", sa.Float, nullable=False),
    sa.Column("counts", Json, nullable=False),  # completed, failed, skipped, reused, calls, loads, ...
    sa.Column("model_seconds", sa.Float),  # first chat sent -> last answer, loads excluded
    sa.Column("calls", Json),  # the step's CallRecords, compact (report/timeline.py)
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index("ix_run_steps_run", "run_id"),
    sa.Index("ix_run_steps_model", "model", "id"),
)
