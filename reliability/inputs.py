"""Scenarios of bad or hostile input: broken files, hostile posting text, secrets in database URLs."""


import json
import os
import random
import sys

import sqlalchemy as sa

from reliability.harness import (
    HOSTILE,
    SECRET,
    WORKFLOWS,
    Ctx,
    Row,
    _clean,
    _one_line,
    _row,
)

BAD_WORKFLOWS = {
    "empty.yaml": "",
    "syntax.yaml": "name: x\nconversations: [\n",
    "tabs.yaml": "name: x\n\tconversations: []\n",
    "list.yaml": "- 1\n- 2\n",
    "scalar.yaml": "just text\n",
    "no_convs.yaml": "workflow_id: 71\nname: no_convs\n",
    "empty_convs.yaml": "workflow_id: 72\nname: empty_convs\nconversations: []\n",
    "dup_key.yaml": "workflow_id: 73\nname: a\nname: b\nconversations: []\n",
    "bad_id.yaml": "workflow_id: abc\nname: bad_id\nconversations: []\n",
    "dup_id.yaml": (WORKFLOWS / "pyonly.yaml").read_text().replace("name: pyonly", "name: pyonly_copy", 1),
    "dup_name.yaml": (WORKFLOWS / "pyonly.yaml").read_text().replace("workflow_id: 9002", "workflow_id: 9102", 1),
    "unknown_key.yaml": (WORKFLOWS / "pyonly.yaml").read_text().replace("name: pyonly", "name: p2\ncolour: red", 1),
    "bad_goto.yaml": (WORKFLOWS / "branchy.yaml").read_text().replace("goto: improve", "goto: nowhere")
    .replace("workflow_id: 9001", "workflow_id: 9201").replace("name: branchy", "name: b_goto"),
    "bad_placeholder.yaml": (WORKFLOWS / "branchy.yaml").read_text().replace("{summarize}", "{nosuch}")
    .replace("workflow_id: 9001", "workflow_id: 9202").replace("name: branchy", "name: b_ph"),
    "bad_order.yaml": (WORKFLOWS / "branchy.yaml").read_text().replace("execution_order: 2", "execution_order: -1")
    .replace("workflow_id: 9001", "workflow_id: 9203").replace("name: branchy", "name: b_order"),
    "bad_regex.yaml": (WORKFLOWS / "branchy.yaml").read_text().replace('regex: "^FAIL"', 'regex: "(["')
    .replace("workflow_id: 9001", "workflow_id: 9204").replace("name: branchy", "name: b_regex"),
    "bad_actor.yaml": (WORKFLOWS / "pyonly.yaml").read_text().replace("python:", "pythn:", 1)
    .replace("workflow_id: 9002", "workflow_id: 9205").replace("name: pyonly", "name: p_actor"),
    "binary.yaml": "\udcff",
    "huge_number.yaml": "workflow_id: 99999999999999999999999\nname: huge\nconversations: []\n",
    "anchors.yaml": "a: &a [*a]\n",
}
BAD_POSTINGS = {
    "short_row.csv": "posting_id,job_title,city\na,x,Paris\nb,y\n",
    "long_row.csv": "posting_id,job_title\na,x\nb,y,z\n",
    "dup_column.csv": "posting_id,job_title,job_title\na,x,y\n",
    "no_id_column.csv": "job_title\nx\n",
    "empty_id.csv": "posting_id,job_title\n,x\n",
    "unterminated.csv": 'posting_id,job_title\na,"open\n',
    "float_id.jsonl": '{"posting_id": 12.5}\n',
    "bool_id.jsonl": '{"posting_id": true}\n',
    "list_id.jsonl": '{"posting_id": [1]}\n',
    "no_id.jsonl": '{"job_title": "x"}\n',
    "dup_id.jsonl": '{"posting_id": "a"}\n{"posting_id": "a"}\n',
    "bad_json.jsonl": '{"posting_id": "a",}\n',
    "nan.jsonl": '{"posting_id": "a", "pay": NaN}\n',
    "nul.jsonl": '{"posting_id": "a", "job_description": "x\\u0000y"}\n',
    "array.jsonl": "[1, 2]\n",
    "bad_enabled.jsonl": '{"posting_id": "a", "enabled": "maybe"}\n',
    "empty.jsonl": "\n\n",
    "latin1.jsonl": None,  # written as bytes below
    "unknown.txt": "posting_id\na\n",
    "a_directory.jsonl": None,  # a folder
}


def bad_input_files(ctx: Ctx) -> Row:
    env = ctx.env("badfiles", sim=False)
    env.load(3)
    wf_dir = env.root / "workflows"
    wf_dir.mkdir()
    for source in WORKFLOWS.iterdir():
        (wf_dir / source.name).write_text(source.read_text())
    bad_wf = dict(list(BAD_WORKFLOWS.items())[:2]) if ctx.fast else BAD_WORKFLOWS
    bad_p = dict(list(BAD_POSTINGS.items())[:2]) if ctx.fast else BAD_POSTINGS
    for name, text in bad_wf.items():
        path = wf_dir / name
        path.write_bytes(b"\xff\xfe\x00" if name == "binary.yaml" else text.encode())
    problems: list[str] = []
    messages: list[str] = []
    for name in bad_wf:
        # beside the good files: a duplicate id or name is only wrong next to the file it repeats
        done = env.turing("validate", *(str(p) for p in sorted(WORKFLOWS.iterdir())), str(wf_dir / name))
        if done.returncode != 2 or not _clean(done.stderr) or name not in done.stderr:
            problems.append(f"validate {name}: exit {done.returncode} {_one_line(done)!r}")
        messages.append(_one_line(done))
    status = env.turing("status", "branchy", TURING_WORKFLOWS_DIR=str(wf_dir))
    warned = [line for line in status.stderr.splitlines() if line.startswith("warning: ")]
    if status.returncode != 0 or len(warned) != len(bad_wf):
        problems.append(f"status beside {len(bad_wf)} bad files: exit {status.returncode}, {len(warned)} warnings")
    p_dir = env.root / "postings"
    p_dir.mkdir()
    for name, text in bad_p.items():
        path = p_dir / name
        if name == "a_directory.jsonl":
            path.mkdir()
        elif name == "latin1.jsonl":
            path.write_bytes('{"posting_id": "café"}\n'.encode("latin-1"))
        else:
            path.write_text(text)
        done = env.turing("postings", "load", str(path))
        if done.returncode != 2 or not _clean(done.stderr) or name not in done.stderr:
            problems.append(f"load {name}: exit {done.returncode} {_one_line(done)!r}")
        messages.append(_one_line(done))
    with env.engine().connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM postings")).scalar_one()
    if stored != 3:
        problems.append(f"{stored - 3} postings written from bad files")
    total = len(bad_wf) + len(bad_p)
    example = random.Random(1).choice(messages).replace(f"{env.root}/", "")
    message = problems[0] if problems else f"{total} refused, each naming the file and line, e.g. {example}"
    return _row(env, f"{total} bad input files (workflow, postings)", not problems, message[:150], run=False)


def hostile_postings(ctx: Ctx) -> Row:
    env = ctx.env("hostile", request_seconds=0.005)
    env.load(10 if ctx.fast else 25, texts=HOSTILE)
    done = env.turing("run", "branchy")
    sent = json.dumps([b.get("messages") for b in env.sim.requests()], ensure_ascii=False)
    missing = [text for text in HOSTILE if json.dumps(text, ensure_ascii=False)[1:-1] not in sent]
    literal = not missing
    if missing:
        print("NOT SENT LITERALLY:", missing[0][:80], file=sys.stderr)
    from turing_dagster.workflows.loader import load_workflow_file
    from turing_dagster.workflows.plan import WorkflowPlan
    from turing_dagster_tests.integration.helpers import assert_routed_by_rules

    try:
        assert_routed_by_rules(WorkflowPlan(load_workflow_file(WORKFLOWS / "branchy.yaml")), env.engine(), env.ids)
        routed = True
    except AssertionError:
        routed = False
    with env.engine().connect() as conn:
        stored = conn.execute(sa.text("SELECT count(*) FROM postings")).scalar_one()
    ok = done.returncode == 0 and literal and routed and stored == len(env.ids)
    message = f"sent literally: {literal}; routed only by the model's answers: {routed}; postings intact: {stored}"
    return _row(env, "hostile postings (placeholders, branch words, SQL)", ok, message)


def secrets_in_urls(ctx: Ctx) -> Row:
    # a simulator: a URL the server accepts (loopback trusts any password) runs the workflow, so a whole run's
    # output and DAGSTER_HOME are searched for the password, and a refusal is about the URL, not about Ollama
    env = ctx.env("secrets")
    if not ctx.fast:
        env.load(2)
    urls = [f"turing:{SECRET}@127.0.0.1/db", f"postgresql+psycopg2://turing:{SECRET}@127.0.0.1:abc/db",
            f"postgresql+psycopg2://turing:{SECRET}@127.0.0.1:9/db"]
    if os.environ.get("TURING_TEST_DATABASE_URL"):
        urls.append(sa.make_url(os.environ["TURING_TEST_DATABASE_URL"]).set(password=SECRET)
                    .render_as_string(hide_password=False))
    problems, messages = [], []
    commands = (["init"], ["status", "branchy"], ["run", "branchy"])
    for url in urls[:1] if ctx.fast else urls:
        for args in commands[1:] if ctx.fast else commands:
            done = env.turing(*args, TURING_DATABASE_URL=url)
            text = done.stdout + done.stderr
            # a server that trusts loopback accepts any password: then the command works, and still never shows it
            refused_badly = done.returncode != 0 and len(done.stderr.strip().splitlines()) != 1
            if SECRET in text or not _clean(text) or refused_badly:
                problems.append(f"{args[0]} with {url.split('@')[-1]}: {_one_line(done)!r}")
            messages.append(_one_line(done))
    leaked = [str(p) for p in env.home.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes()]
    if leaked:
        problems.append(f"password in {leaked[0]}")
    message = problems[0] if problems else messages[0]  # the unparseable URL: its password shown as ***
    return _row(env, "secrets in database URLs", not problems, message[:150], run=False)


