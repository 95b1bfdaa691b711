"""Multi-turn conversations end to end: Dagster, the ollama client over HTTP, the simulator, SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from turing_dagster.cli.status_cmds import status
from turing_dagster.simulator import FaultConfig
from turing_dagster.store.schema import postings
from turing_dagster_tests.integration.helpers import forget_waves, llm_calls, make_postings, rows, run

CHAT_WORKFLOWS = Path(__file__).resolve().parent / "chat_workflows"
SKILLS, SCORE = 93002, 93003


@pytest.fixture
def chatty(monkeypatch, instance, sim):
    monkeypatch.setenv("TURING_WORKFLOWS_DIR", str(CHAT_WORKFLOWS))
    forget_waves(instance, "chatty")
    yield instance
    sim.set_answers({})


def _chat_rows(engine) -> dict[str, sa.Row]:
    return {r.posting_id: r for r in rows(engine, 9301) if r.conversation_id == SKILLS and r.status != "skipped"}


def test_turns_share_one_chat_and_one_load_and_the_last_turn_is_the_output(engine, chatty, sim):
    ids = make_postings(engine, 12)
    report = run(engine, chatty, name="chatty")
    assert report.ok, report.failures
    chats = _chat_rows(engine)
    assert len(chats) == 11  # one of twelve postings has no content and ends after clean
    with engine.connect() as conn:
        saved = dict(conn.execute(sa.select(postings.c.posting_id, postings.c.skills)).all())
    scored = {r.posting_id: r for r in rows(engine, 9301) if r.conversation_id == SCORE}
    for pid, row in chats.items():
        assert row.status == "completed", row.error
        first, last = row.state_snapshot["turns"]
        assert f"ID: {pid}" in first["prompt"] and not first["answer"].startswith("{")
        assert first["answer"] in last["prompt"]  # {turn1} is the first answer
        assert row.output == last["answer"] and json.loads(row.output)["skills"]
        assert saved[pid] == row.output  # save_to gets the last turn
        assert scored[pid].status == "completed"  # `next` saw the last turn's JSON
        assert row.attempts == first["attempts"] + last["attempts"]
    # the second turn's request carries the whole chat so far
    second_turns = [b for b in sim.requests() if len(b.get("messages", [])) == 4]
    assert len(second_turns) == 11
    for body in second_turns:
        roles = [m["role"] for m in body["messages"]]
        assert roles == ["system", "user", "assistant", "user"]
        pid = body["messages"][1]["content"].split("ID: ")[1].split()[0]
        assert body["messages"][2]["content"] == chats[pid].state_snapshot["turns"][0]["answer"]
    loads = sim.timeline()["counts"]["loads"]
    assert loads.get("gemma3:4b") == 1, loads  # one load serves every turn
    assert set(ids) - set(chats) == {"p005"}

    out = CliRunner().invoke(status, ["chatty", "--posting", "p001"])
    assert out.exit_code == 0, out.output
    assert "turn 1: 'ID: p001" in out.output and "turn 2: 'Check each skill" in out.output
    as_json = json.loads(CliRunner().invoke(status, ["chatty", "--posting", "p001", "--json"]).output)
    assert [len(e.get("turns", [])) for e in as_json] == [0, 2, 0]


def test_format_applies_per_turn_and_a_failed_turn_fails_the_conversation(engine, chatty, sim):
    make_postings(engine, 4)
    sim.set_answers({"ID: p002": "Python, SQL"})  # fine as turn 1's list, not the JSON turn 2 must give
    report = run(engine, chatty, name="chatty")
    assert report.ok, report.failures  # one posting failing is not a failed run
    chats = _chat_rows(engine)
    assert {pid: r.status for pid, r in chats.items()} == {
        "p000": "completed", "p001": "completed", "p002": "failed", "p003": "completed",
    }
    assert chats["p002"].error.startswith("turn 2: invalid output after 2 attempts: output is not valid JSON")
    assert chats["p002"].state_snapshot["current_conversation_id"] == SKILLS  # held at the chat, not routed on
    kept = chats["p002"].state_snapshot["turns"]  # the turn it got through is kept for debugging
    assert len(kept) == 1 and kept[0]["answer"] == "Python, SQL"
    assert not any(r.posting_id == "p002" and r.status != "skipped" for r in rows(engine, 9301)
                   if r.conversation_id == SCORE)


def test_a_crash_between_turns_redoes_only_what_was_not_answered(engine, chatty, sim, monkeypatch):
    monkeypatch.setenv("TURING_CHUNK_SIZE", "2")
    ids = make_postings(engine, 6)[:5]  # p005 is empty: five postings reach the chat
    # a posting's second turn is sent as soon as its first is answered; the server dies mid-step
    sim.set_faults(FaultConfig(die_after=7))
    assert not run(engine, chatty, name="chatty").ok
    first = _chat_rows(engine)
    crashed = {pid for pid, r in first.items() if r.status == "failed"}
    assert crashed and all(first[pid].error.startswith("turn ") and first[pid].state_snapshot["retryable"]
                           for pid in crashed)
    # what the rerun must ask: nothing for a finished chat; the turns a crashed one had no answer for (the
    # answers it got are kept with its failed row and reused); both turns for a chat never written
    owed = {pid: 2 - len(first[pid].state_snapshot.get("turns", [])) if pid in crashed else 0 if pid in first else 2
            for pid in ids}
    assert sum(owed.values()) < 10  # the crash left something done
    sim.set_faults(FaultConfig())
    sim.reset()
    report = run(engine, chatty, name="chatty")
    assert report.ok, report.failures
    chatted = {pid: n for (model, pid), n in llm_calls(sim).items() if model == "gemma3:4b"}
    assert chatted == {pid: n for pid, n in owed.items() if n}
    after = _chat_rows(engine)
    assert all(r.status == "completed" and len(r.state_snapshot["turns"]) == 2 for r in after.values())
    assert all(after[pid].checkpoint_id == first[pid].checkpoint_id for pid in first if pid not in crashed)
