"""Scenarios that disturb a run: kills, server faults, a hung or dying server, database outages, races."""


import json
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from reliability.harness import (
    DAGSTER,
    STEP_KEY,
    Ctx,
    Row,
    _clean,
    _one_line,
    _row,
    _wait_for_progress,
    unstored_answers,
)


def sigkill_at_random_points(ctx: Ctx) -> Row:
    chunk, kills = 4, 0
    env = ctx.env("sigkill", chunk=chunk, request_seconds=0.03)
    env.load(16 if ctx.fast else 60)
    rng = random.Random(8)
    for _ in range(3 if ctx.fast else 10):
        before = env.checkpoints()
        proc = env.popen("run", "branchy")
        _wait_for_progress(env, proc, before)
        time.sleep(rng.uniform(0, 0.6))
        if proc.poll() is not None:
            break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        kills += 1
    done = env.turing("run", "branchy")
    ok = done.returncode == 0 and _clean(done.stderr)
    return _row(env, f"SIGKILL at {kills} random points", ok, f"after {kills} kills: rerun exit {done.returncode}",
                max_repeated=kills * unstored_answers(chunk))


def injected_errors(rate: float) -> Callable[[Ctx], Row]:
    def scenario(ctx: Ctx) -> Row:
        from turing_dagster.simulator import FaultConfig

        env = ctx.env(f"faults{rate}")
        env.load(20 if ctx.fast else 40)
        env.sim.set_faults(FaultConfig(error_500_rate=rate / 2, error_503_rate=rate / 2, seed=3))
        first = env.turing("run", "branchy")
        # plain reruns retry what the server's errors held (each request gets the conversation's retries + 1
        # attempts a run), the errors still injected; three are enough for nothing to be held at these rates
        reruns = [env.turing("run", "branchy")]
        while "failed because the server misbehaved" in reruns[-1].stdout and len(reruns) < 3:
            reruns.append(env.turing("run", "branchy"))
        second = reruns[-1]
        env.sim.set_faults(FaultConfig())
        out = first.stdout + "".join(r.stdout for r in reruns)
        held = [line for line in out.splitlines() if "posting(s)" in line]
        ok = all(r.returncode == 0 for r in (first, *reruns)) and _clean(first.stderr + "".join(r.stderr for r in reruns))
        message = held[-1] if held else f"exit {first.returncode}, {second.returncode}; nothing held"
        return _row(env, f"{int(rate * 100)}% injected 500/503", ok, message[:150])

    return scenario


def hung_server(ctx: Ctx) -> Row:
    """A socket that accepts and never answers; the run must fail in one line naming the host."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    env = ctx.env("hung", sim=False)
    env.load(4)
    host = f"127.0.0.1:{listener.getsockname()[1]}"
    limit = 20 if ctx.fast else 60
    # short control deadlines, as an operator who expects a quick answer sets them
    proc = env.popen("run", "branchy", OLLAMA_HOST=f"http://{host}", TURING_OLLAMA_CONTROL_TIMEOUT="3")
    try:
        out, err = proc.communicate(timeout=limit)
        lines = err.strip().splitlines()
        ok = (proc.returncode not in (0, None) and _clean(err) and len(lines) == 1 and lines[0].startswith("error: ")
              and host in lines[0] and STEP_KEY not in lines[0])
        message = _one_line(None, err)
        if len(lines) > 1:  # what came before the error, as the user saw it
            message = f"{len(lines)} lines on stderr, not one: {lines[0][:60]}... then {message}"[:200]
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        ok, message = False, f"still waiting after {limit}s; SIGTERM: {_one_line(None, err)}"
    stop.set()
    listener.close()
    for conn in held:
        conn.close()
    lost = len(env.ids) - 0  # nothing can be processed: report the run, not the postings
    return Row("hung server (listens, never answers)", env.db, len(env.ids), f"{lost} held", 0, 0,
               "pass" if ok else "FAIL", message)


def server_dies_and_returns(ctx: Ctx) -> Row:
    from turing_dagster.simulator import FaultConfig

    env = ctx.env("dies", chunk=4, request_seconds=0.02)
    env.load(16 if ctx.fast else 40)
    env.sim.set_faults(FaultConfig(die_after=30))
    first = env.turing("run", "branchy")
    env.keep_requests()  # the server comes back: listening again, models unloaded
    env.sim.set_faults(FaultConfig())
    second = env.turing("run", "branchy")
    # the failed run's line: one `error:` naming the conversation and the host, not Dagster's step key
    errors = [line for line in first.stderr.splitlines() if line.startswith("error: ")]
    shaped = (len(errors) == 1 and STEP_KEY not in errors[0] and "conversation '" in errors[0]
              and env.sim.url.removeprefix("http://") in errors[0])
    ok = first.returncode == 1 and shaped and second.returncode == 0 and _clean(first.stderr + second.stderr)
    message = f"dead: exit {first.returncode} {_one_line(first)!r}; back: exit {second.returncode}"
    if not shaped:
        message = f"not one error line naming conversation and host: {errors!r}"
    return _row(env, "server dies mid-step, comes back", ok, message[:150], max_repeated=4)


def concurrent_runs(n: int) -> Callable[[Ctx], Row]:
    def scenario(ctx: Ctx) -> Row:
        env = ctx.env(f"concurrent{n}", request_seconds=0.01)
        env.load(12)
        fresh = env.root / "fresh_home"  # `turing init` made the other one: these runs start from nothing
        fresh.mkdir()
        procs = [env.popen("run", "branchy", DAGSTER_HOME=str(fresh)) for _ in range(n)]
        results = [(p.wait(timeout=600), p.stdout.read(), p.stderr.read()) for p in procs]
        codes = sorted(code for code, _, _ in results)
        info = subprocess.run([str(DAGSTER), "instance", "info"], env={**env.env, "DAGSTER_HOME": str(fresh)},
                              capture_output=True, text=True, timeout=120)
        final = env.turing("run", "branchy", DAGSTER_HOME=str(fresh))
        losers = [err for code, _, err in results if code]
        ok = (set(codes) <= {0, 3} and codes.count(0) >= 1 and info.returncode == 0 and final.returncode == 0
              and all(_clean(err) and len(err.strip().splitlines()) <= 1 for _, _, err in results))
        message = f"exit codes {codes}; " + (_one_line(None, losers[0]) if losers else "no loser")
        return _row(env, f"{n} concurrent runs, fresh DAGSTER_HOME", ok, message[:150])

    return scenario


_TICK = """
import json, sys
import dagster as dg
from turing_dagster.dagster_defs.instance import dagster_instance, register_partitions
from turing_dagster.dagster_defs.resources import TuringStore
from turing_dagster.definitions import build_definitions
instance = dagster_instance()
sensor = build_definitions().resolve_sensor_def("branchy_new_postings")
with dg.build_sensor_context(instance=instance, resources={"store": TuringStore()}) as context:
    result = sensor(context)
for request in getattr(result, "dynamic_partitions_requests", None) or []:
    register_partitions(instance, request.partitions_def_name, list(request.partition_keys))
print(json.dumps([r.partition_key for r in getattr(result, "run_requests", None) or []]))
"""


def sensor_ticks_and_runs(ctx: Ctx) -> Row:
    env = ctx.env("ticks", request_seconds=0.01)
    env.load(12)
    fresh = env.root / "fresh_home"
    fresh.mkdir()
    cmd = [sys.executable, "-c", _TICK]
    ticks = [subprocess.Popen(cmd, env={**env.env, "DAGSTER_HOME": str(fresh)}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    run = env.popen("run", "branchy", DAGSTER_HOME=str(fresh))
    tick_results = [(t.wait(timeout=300), t.stdout.read(), t.stderr.read()) for t in ticks]
    run_code, run_err = run.wait(timeout=600), run.stderr.read()
    final = env.turing("run", "branchy", DAGSTER_HOME=str(fresh))
    ok = all(code == 0 for code, _, _ in tick_results) and run_code in (0, 3) and final.returncode == 0
    ok = ok and _clean(run_err + "".join(err for _, _, err in tick_results))
    waves = [json.loads(out or "[]") for _, out, _ in tick_results]
    message = f"3 ticks requested {waves}, run exit {run_code}, rerun exit {final.returncode}"
    return _row(env, "3 sensor evaluations at once + a run, fresh DAGSTER_HOME", ok, message[:150])


