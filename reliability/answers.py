"""Answers Turing must not store as results: one the database cannot hold, and answers to prompts longer
than the model's context (refused before sending, shortened, or cut by a server whose tokenizer is denser
than Turing's estimate)."""


import json
import re

import sqlalchemy as sa

from reliability.harness import OWN_WORKFLOWS, WORKFLOWS, Ctx, Env, Row, _clean, _row

SENTENCE = "The team builds data pipelines for hospitals and reports to the head of engineering. "
CTX_FAIL, CTX_SHORTEN = OWN_WORKFLOWS / "ctx_fail.yaml", OWN_WORKFLOWS / "ctx_shorten.yaml"


def _chats(requests: list[dict]) -> int:
    return sum(1 for b in requests if b.get("messages"))


def _trail(env: Env, workflow: str, posting_id: str) -> dict:
    """The posting's checkpoint at its (one) failed or last step, as `turing status --posting --json` shows it."""
    done = env.turing("status", workflow, "--posting", posting_id, "--json")
    entries = json.loads(done.stdout or "[]") if done.returncode == 0 else []
    return next((e for e in entries if e["status"] == "failed"), entries[-1] if entries else {})


def unstorable_answers(ctx: Ctx) -> Row:
    """One posting's answer is a lone surrogate, another's holds a NUL: those two fail, named; the rest
    finish in the first run; a second run asks nothing."""
    env = ctx.env("unstorable", request_seconds=0.003)
    env.load(20 if ctx.fast else 100)
    planted = {env.ids[7]: "Summary with a \udcff in it", env.ids[-3]: "Summary with a \x00 in it"}
    env.sim.set_answers({f"ID: {pid}\nTitle": text for pid, text in planted.items()})  # the summarize step's
    first = env.turing("run", "branchy")
    finished = env.finished(WORKFLOWS / "branchy.yaml")
    status = env.turing("status", "branchy")
    counts = json.loads(env.turing("status", "branchy", "--json").stdout or "{}")
    env.sim.set_answers({})
    env.keep_requests()
    second = env.turing("run", "branchy")
    asked_again = _chats(env.sim.requests())
    problems = []
    if first.returncode or second.returncode or not _clean(first.stdout + first.stderr + second.stderr):
        problems.append(f"run exit {first.returncode}, rerun exit {second.returncode}")
    others = set(env.ids) - set(planted)
    if others - finished:
        problems.append(f"{len(others - finished)} other posting(s) not at the end after the first run")
    failed = {s["step"]: s["failed"] for s in counts.get("steps", [])}
    if failed.get("02_summarize") != len(planted) or f"{len(planted)} posting step(s) failed" not in first.stdout:
        problems.append(f"failures not counted: status says {failed}")
    errors = {pid: _trail(env, "branchy", pid) for pid in planted}
    for pid, e in errors.items():
        if e.get("status") != "failed" or e.get("output") is not None or "cannot be stored" not in (e.get("error") or ""):
            problems.append(f"{pid}: {e.get('status')} {str(e.get('error') or e.get('output'))[:60]!r}")
    shown = first.stdout + first.stderr + status.stdout + status.stderr
    unnamed = [pid for pid in planted if not re.search(rf"\b{pid}\b", shown)]
    if unnamed:  # the user must learn which postings failed without knowing their ids already
        problems.append(f"not named by `turing run` or `turing status`: {', '.join(unnamed)}")
    if asked_again:
        problems.append(f"the second run made {asked_again} model call(s)")
    pid, e = next(iter(errors.items()))
    facts = (f"{len(planted)} failed; {len(others & finished)}/{len(others)} others finished in run 1; "
             f"rerun: {asked_again} calls; {pid}: {e.get('error')}")
    message = "; ".join([*problems, facts])
    return _row(env, "one answer the store cannot hold (lone surrogate, NUL)", not problems, message[:200],
                expect={WORKFLOWS / "branchy.yaml": frozenset(planted)})


def _long_postings(prefix: str, n: int, chars: int) -> list[dict]:
    body = SENTENCE * (chars // len(SENTENCE))
    return [{"posting_id": f"{prefix}{i}", "job_title": "Data engineer", "job_description": f"Posting {prefix}{i}. {body}"}
            for i in range(n)]


def _short_postings(prefix: str, n: int) -> list[dict]:
    return [{"posting_id": f"{prefix}{i}", "job_title": "Data engineer",
             "job_description": f"Posting {prefix}{i}. " + SENTENCE * 3} for i in range(n)]


def _fits_context(env: Env, workflow: str) -> set[str]:
    """The postings `turing qa` lists under fits_context."""
    found = json.loads(env.turing("qa", workflow, "--json", "--show", "1000").stdout or "[]")
    return {o.split(":", 1)[0] for f in found if f["check"] == "fits_context" for o in f["offenders"]}


def prompts_longer_than_num_ctx(ctx: Ctx) -> Row:
    """60 KB postings in a 2048-token context: refused before sending, each one line; `overflow: shorten`
    completes them; a server with a denser tokenizer cuts the shortened prompts, and those answers are refused."""
    env = ctx.env("num_ctx", request_seconds=0.003)
    env.env["TURING_WORKFLOWS_DIR"] = str(OWN_WORKFLOWS)
    n_long, n_short = (2, 4) if ctx.fast else (5, 20)
    long = _long_postings("long", n_long, 60_000)
    env.load_records(_short_postings("s", n_short) + long, init=True)
    problems = []

    # 1. overflow: fail (the default): refused before it is sent, one line naming the posting, size, num_ctx
    first = env.turing("run", "ctx_fail")
    again = env.turing("run", "ctx_fail")  # not retryable: a plain run leaves them
    if first.returncode or again.returncode or not _clean(first.stderr + again.stderr):
        problems.append(f"ctx_fail: run exit {first.returncode}, rerun exit {again.returncode}")
    sent = " ".join(m["content"] for b in env.sim.requests() for m in b.get("messages", []))
    if SENTENCE * 40 in sent:
        problems.append("a 60 KB posting's prompt reached the server")
    refusal = re.compile(r"^posting (\S+): prompt of ~(\d+) tokens \(estimated\) does not fit num_ctx 2048 of ")
    lines = {}
    for p in long:
        e = _trail(env, "ctx_fail", p["posting_id"])
        lines[p["posting_id"]] = line = e.get("error") or ""
        m = refusal.match(line)
        if e.get("status") != "failed" or e.get("output") is not None or "\n" in line or not m \
                or m.group(1) != p["posting_id"] or int(m.group(2)) < 60_000 // 4:
            problems.append(f"ctx_fail {p['posting_id']}: {e.get('status')} {line[:80]!r}")
    if _fits_context(env, "ctx_fail") != {p["posting_id"] for p in long}:
        problems.append(f"turing qa ctx_fail: fits_context lists {sorted(_fits_context(env, 'ctx_fail'))}")

    # 2. overflow: shorten: cut at a sentence until it fits, and completed
    shortened = env.turing("run", "ctx_shorten")
    cut_by_server = [b for b in env.sim.requests() if b.get("_sim", {}).get("truncated")]
    marks = [_trail(env, "ctx_shorten", p["posting_id"]) for p in long]
    if shortened.returncode or cut_by_server or any(m.get("status") != "completed" for m in marks):
        problems.append(f"ctx_shorten: exit {shortened.returncode}, {len(cut_by_server)} prompt(s) cut by the server, "
                        f"{sum(m.get('status') != 'completed' for m in marks)} long posting(s) not completed")
    env.keep_requests()

    # 3. a tokenizer denser than Turing's estimate (another build of the model: its own request keys): the
    # shortened prompts fit Turing's estimate, not the server's window; it cuts them and answers anyway
    dense = ctx.simulator(0.003, revision="dense", chars_per_token=1.2)
    late = _long_postings("dense", n_long, 60_000)
    late_short = _short_postings("t", 2)
    env.load_records(late_short + late)
    with env.engine().connect() as conn:
        stored_before = conn.execute(sa.text("SELECT count(*) FROM llm_answers")).scalar_one()
    third = env.turing("run", "ctx_shorten", OLLAMA_HOST=dense.url)
    seen = dense.requests()
    env.requests += seen
    with env.engine().connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM llm_answers")).scalar_one() - stored_before
    uncut = {json.dumps(b["messages"]) for b in seen if b.get("messages") and not b.get("_sim", {}).get("truncated")}
    cut = [b for b in seen if b.get("_sim", {}).get("truncated")]
    refused = [_trail(env, "ctx_shorten", p["posting_id"]) for p in late]
    if third.returncode or len(cut) < len(late) or stored != len(uncut):
        problems.append(f"dense tokenizer: exit {third.returncode}, {len(cut)} prompt(s) cut, {stored} answer(s) "
                        f"stored for {len(uncut)} uncut request(s)")
    for p, e in zip(late, refused, strict=True):
        if e.get("status") != "failed" or e.get("output") is not None or "prompt cut" not in (e.get("error") or ""):
            problems.append(f"ctx_shorten {p['posting_id']}: {e.get('status')} {(e.get('error') or '')[:80]!r}")
    if _fits_context(env, "ctx_shorten") != {p["posting_id"] for p in late}:
        problems.append(f"turing qa ctx_shorten: fits_context lists {sorted(_fits_context(env, 'ctx_shorten'))}")

    message = "; ".join([*problems, f"{n_long} refused: {lines[long[0]['posting_id']][:90]}...",
                         f"overflow: shorten: {len(long) - sum(m.get('status') != 'completed' for m in marks)} completed",
                         f"a denser tokenizer: {len(cut)} cut by the server, refused, in turing qa"])
    long_ids, late_ids = ({p["posting_id"] for p in group} for group in (long, late))
    never_admitted = frozenset(late_ids | {p["posting_id"] for p in late_short})  # loaded after ctx_fail ran
    return _row(env, "prompts longer than num_ctx (refused, shortened, cut by the server)", not problems,
                message[:220], expect={CTX_FAIL: frozenset(long_ids) | never_admitted, CTX_SHORTEN: frozenset(late_ids)})
