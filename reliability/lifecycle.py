"""A workflow's lifecycle (issue 15): its file removed, re-created under its name with a new workflow_id,
the old one retired, its conversation ids reused by another file; its history intact throughout."""


import json
import subprocess
from collections import Counter

import sqlalchemy as sa

from reliability.harness import WORKFLOWS, Ctx, Env, Row, _clean, _row

NEW_ID = 9011  # branchy re-created: a new workflow_id and conversation ids of its own (901.. -> 1901..)


def _history(env: Env) -> dict[tuple[int, int, str], int]:
    """{(workflow_id, conversation_id, canonical_name): checkpoints}: what must survive every step."""
    query = ("SELECT psc.workflow_id, psc.conversation_id, c.canonical_name, count(*) FROM posting_state_checkpoints psc "
             "LEFT JOIN conversations c ON c.conversation_id = psc.conversation_id "
             "GROUP BY psc.workflow_id, psc.conversation_id, c.canonical_name")
    with env.engine().connect() as conn:
        return {(w, c, n): k for w, c, n, k in conn.execute(sa.text(query))}


def _repeated(requests: list[dict]) -> int:
    seen = Counter((b.get("model"), json.dumps(b["messages"], sort_keys=True)) for b in requests if b.get("messages"))
    return sum(n - 1 for n in seen.values())


def workflow_lifecycle(ctx: Ctx) -> Row:
    env = ctx.env("lifecycle", request_seconds=0.005)
    wf = env.root / "workflows"
    wf.mkdir()
    for source in WORKFLOWS.iterdir():
        (wf / source.name).write_text(source.read_text())
    env.env["TURING_WORKFLOWS_DIR"] = str(wf)
    env.load(6 if ctx.fast else 20)
    problems: list[str] = []
    said: dict[str, str] = {}

    def step(label: str, *args: str, code: int = 0, stderr: str = "", stdout_lines: int | None = None) -> str:
        """Run `turing ARGS`: its exit code, no traceback, stderr `stderr...` in one line (or empty)."""
        done: subprocess.CompletedProcess = env.turing(*args)
        err = done.stderr.strip().splitlines()
        ok = done.returncode == code and _clean(done.stdout + done.stderr)
        ok = ok and (err == [] if not stderr else len(err) == 1 and err[0].startswith(stderr))
        ok = ok and (stdout_lines is None or len(done.stdout.strip().splitlines()) == stdout_lines)
        if not ok:
            problems.append(f"{label}: exit {done.returncode}, {(done.stderr or done.stdout).strip()[:120]!r}")
        said[label] = (err[0] if err else done.stdout.strip().splitlines()[0] if done.stdout.strip() else "")
        return done.stdout

    step("run", "run", "branchy")
    step("run pyonly", "run", "pyonly")
    first_requests = env.sim.requests()
    before, status_before = _history(env), step("status", "status", "branchy", "--json")
    (wf / "branchy.yaml").rename(env.root / "branchy.yaml.removed")
    for name in ("branchy", "9001"):
        if step(f"status {name} (file gone)", "status", name, "--json", stderr="note: ") != status_before:
            problems.append(f"status {name}: not the history shown before the file went")
    step("monitor (file gone)", "monitor", "9001", "--once", stderr="note: ")
    step("run (file gone)", "run", "branchy", code=2, stderr="error: ")
    text = (WORKFLOWS / "branchy.yaml").read_text().replace("workflow_id: 9001", f"workflow_id: {NEW_ID}")
    (wf / "branchy.yaml").write_text(text.replace("conversation_id: 90", "conversation_id: 190"))
    step("init (re-created)", "init", code=2, stderr="error: ")
    step("run (re-created)", "run", "branchy", code=2, stderr="error: ")
    step("retire", "workflows", "retire", "9001", stdout_lines=1)
    step("init (retired)", "init")
    env.sim.reset()  # the new workflow asks the model what the old one asked: only its own repeats count
    step("run (new)", "run", "branchy")
    # the retired workflow's conversation ids (no file beside it repeats them: the database must say so)
    steal = (WORKFLOWS / "branchy.yaml").read_text().replace("workflow_id: 9001", "workflow_id: 9300")
    (wf / "thief.yaml").write_text(steal.replace("name: branchy", "name: thief"))
    step("init (ids reused)", "init", code=2, stderr="error: ")
    step("run (ids reused)", "run", "thief", code=2, stderr="error: ")
    step("status 9001 (retired)", "status", "9001", stderr="note: ")
    listed = step("list", "workflows", "list")
    after = _history(env)
    old = {k: v for k, v in after.items() if k[0] != NEW_ID}
    if old != before:
        problems.append(f"history changed: {len(before)} (workflow, conversation) counts before, {len(old)} after")
    new = json.loads(step("status (new)", "status", "branchy", "--json"))
    if new["workflow_id"] != NEW_ID or new["finished"] != len(env.ids):
        problems.append(f"the new workflow finished {new['finished']} of {len(env.ids)}")
    if _repeated(first_requests):
        problems.append(f"{_repeated(first_requests)} chat requests repeated before the new workflow")
    if "branchy~9001" not in listed or "thief" in listed:
        problems.append("`turing workflows list` does not show the retired workflow")
    counts = sum(before.values())
    example = said["init (re-created)"].removeprefix("error: ")
    message = problems[0] if problems else f"{len(said)} steps one line each, {counts} checkpoints kept: {example}"
    return _row(env, "workflow removed, re-created, retired, ids reused", not problems,
                message.replace(f"{env.root}/", "")[:150])
