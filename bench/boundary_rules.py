"""How bench/boundaries.py names a stack sample: its phase (which part of the step flow) and its kind (what
the thread was doing). A stack is a list of "file:function", innermost first. A phase is the first rule,
in the order below, that matches any frame (Turing's rules before Dagster's: a log line's event write
belongs to the Turing part that wrote it); a kind is what the innermost matching frame does."""

from __future__ import annotations

# (path fragment, function or None for any): the part of the run a frame belongs to
PHASES: tuple[tuple[str, str | None, str], ...] = (
    ("turing_dagster/dagster_defs/checks.py", None, "QA checks (asset checks in the step)"),
    ("turing_dagster/steps/qa", None, "QA checks (asset checks in the step)"),
    ("turing_dagster/store/claims.py", None, "wave claims (claim, check, release)"),
    ("turing_dagster/dagster_defs/run_hosts.py", None, "waiting for the hosts' pool"),
    ("turing_dagster/dagster_defs/gpu_timeline.py", None, "GPU timeline (drawn by the last step)"),
    ("turing_dagster/report/", None, "GPU timeline (drawn by the last step)"),
    ("turing_dagster/store/runs.py", None, "run_steps record"),
    ("turing_dagster/dagster_defs/assets.py", "describe", "materialization metadata and log line"),
    ("turing_dagster/dagster_defs/io_manager.py", "handle_output", "run_steps record"),
    ("turing_dagster/dagster_defs/io_manager.py", None, "chunk commits (checkpoints, answers)"),
    ("turing_dagster/steps/wave_state.py", None, "reading the wave (standing, outputs)"),
    ("turing_dagster/steps/classify.py", None, "reading the wave (standing, outputs)"),
    ("turing_dagster/steps/run_step.py", "with_postings", "reading postings"),
    ("turing_dagster/store/answers.py", None, "stored-answer lookups"),
    ("turing_dagster/ollama/session.py", "ensure_available", "model session: /api/show"),
    ("turing_dagster/ollama/session.py", "digest", "model session: digest (/api/tags)"),
    ("turing_dagster/ollama/session.py", "context_length", "model session: context length (/api/show, /api/ps)"),
    ("turing_dagster/ollama/session.py", "load", "model session: load"),
    ("turing_dagster/ollama/session.py", "finish", "model session: finish (residency, /api/ps)"),
    ("turing_dagster/ollama/pool.py", "hosts_for", "model session: hosts serving the model (/api/tags)"),
    ("turing_dagster/ollama/dispatch.py", None, "dispatch (threads, queue)"),
    ("turing_dagster/dagster_defs/assets.py", "run_order", "conversation order (/api/ps)"),
    ("turing_dagster/steps/python_side.py", None, "Python actor steps"),
    ("turing_dagster/steps/llm_side.py", None, "LLM step (requests, answers)"),
    ("turing_dagster/steps/", None, "step code (other)"),
    ("turing_dagster/dagster_defs/resources.py", None, "resources"),
    ("turing_dagster/dagster_defs/assets.py", "conversations", "step body: waiting for the next conversation"),
    ("turing_dagster/dagster_defs/assets.py", None, "asset body (other)"),
    ("turing_dagster/", None, "Turing (other)"),
    ("dagster/_core/storage/event_log/", None, "Dagster event log (writes and reads)"),
    ("dagster/_core/storage/runs/", None, "Dagster run storage"),
    ("dagster/_core/storage/", None, "Dagster storage (other)"),
    ("dagster/_core/execution/plan/execute_step.py", None, "Dagster step execution (events, outputs)"),
    ("dagster/_core/execution/plan/compute", None, "Dagster step execution (events, outputs)"),
    ("dagster/_core/execution/plan/execute_plan.py", None, "Dagster plan loop (step start/end events)"),
    ("dagster/_core/execution/plan/active.py", None, "Dagster plan loop (step start/end events)"),
    ("dagster/_core/execution/context", None, "Dagster step context"),
    ("dagster/_core/execution/", None, "Dagster execution (other)"),
    ("dagster/", None, "Dagster (other)"),
)

KINDS: tuple[tuple[str, str | None, str], ...] = (
    ("subprocess.py", None, "spawning processes"),
    ("httpx/", None, "HTTP"),
    ("httpcore/", None, "HTTP"),
    ("threading.py", "wait", "waiting (condition, event, queue)"),
    ("queue.py", "get", "waiting (condition, event, queue)"),
    ("dagster/_core/storage/", None, "Dagster storage (SQL)"),
    ("dagster/_core/instance/", None, "Dagster instance (events, runs)"),
    ("sqlalchemy/", None, "Turing's store (SQL)"),
    ("logging/", None, "logging"),
    ("dagster_shared/serdes", None, "serialization (serdes, JSON)"),
    ("dagster/_serdes", None, "serialization (serdes, JSON)"),
    ("json/", None, "serialization (serdes, JSON)"),
    ("pydantic", None, "serialization (serdes, JSON)"),
)


def _innermost(frames: list[str], rules) -> str | None:
    """The label of the innermost frame any rule matches."""
    for frame in frames:
        path, _, function = frame.rpartition(":")
        for fragment, name, label in rules:
            if fragment in path and (name is None or name == function):
                return label
    return None


def _first_rule(frames: list[str], rules) -> str | None:
    """The label of the first rule that matches any frame."""
    split = [f.rpartition(":") for f in frames]
    for fragment, name, label in rules:
        if any(fragment in path and (name is None or name == function) for path, _, function in split):
            return label
    return None


RUNNER = "turing_dagster/dagster_defs/runner.py"
IN_JOB = "dagster/_core/execution/"
THREAD_NAMES = {"main": "main", "turing-conversations": "conversations"}  # the probe's thread names, shortened


def phase_of(frames: list[str], thread: str = "main") -> str:
    """Inside the job (the conversations thread, or the main thread's frames inner to `run_workflow`'s call of
    Dagster): Turing's innermost named part first (Dagster's machinery it calls, such as a log line's event
    write, belongs to that part), else Dagster's. Outside it: imports, the runner's own work (admission,
    waves, settling), the CLI."""
    if any("<frozen importlib" in f for f in frames):
        return "imports"
    turing = [r for r in PHASES if r[0].startswith("turing_dagster/")]
    dagster = [r for r in PHASES if not r[0].startswith("turing_dagster/")]
    if thread != "main":  # a thread the step started: all of it is in the job
        return _first_rule(frames, turing) or _first_rule(frames, dagster) or "in the job, outside Turing and Dagster"
    runner = next((i for i, f in enumerate(frames) if RUNNER in f), None)
    inner = frames if runner is None else frames[:runner]
    if runner is not None and any(IN_JOB in f for f in inner):
        return _first_rule(inner, turing) or _first_rule(inner, dagster) or "in the job, outside Turing and Dagster"
    if runner is not None:
        return f"turing run outside the job ({frames[runner].rpartition(':')[2]})"
    mine = next((f for f in frames if "turing_dagster/" in f), None)
    if mine is None:
        return "outside Turing"
    path, _, function = mine.rpartition(":")
    return f"turing CLI ({path.rsplit('turing_dagster/', 1)[1]}:{function})"


def kind_of(frames: list[str]) -> str:
    found = _innermost(frames, KINDS)
    if found == "Turing's store (SQL)" and any("dagster/_core/storage/" in f for f in frames):
        return "Dagster storage (SQL)"  # Dagster's storage is SQLAlchemy too: the outer frame says whose
    return found or "Python"
