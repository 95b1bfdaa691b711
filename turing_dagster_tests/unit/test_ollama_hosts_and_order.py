"""Host settings (TURING_OLLAMA_HOSTS, OLLAMA_HOST) and the resident-first order within an execution order."""

from __future__ import annotations

import ast
import doctest
import os
import subprocess
import sys

import pytest

from turing_dagster import settings
from turing_dagster.settings import HostConfigError, SettingsError, normalize_host, ollama_host_problem, ollama_hosts
from turing_dagster.workflows.plan import resident_first
from turing_dagster_tests.unit.test_planning import _plan


@pytest.fixture
def env(monkeypatch):
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    monkeypatch.delenv("TURING_OLLAMA_HOSTS", raising=False)
    return monkeypatch


def test_hosts_come_from_config_then_turing_ollama_hosts_then_ollama_host(env):
    assert ollama_hosts() == [settings.DEFAULT_OLLAMA_HOST]
    env.setenv("OLLAMA_HOST", "gpu0:11500")
    assert ollama_hosts() == ["http://gpu0:11500"]
    env.setenv("TURING_OLLAMA_HOSTS", " http://gpu1:11434/ , gpu2 ,gpu1:11434")
    assert ollama_hosts() == ["http://gpu1:11434", "http://gpu2:11434"]  # normalised, no duplicates
    # the client's rule: a scheme without a port means that scheme's port, not Ollama's
    assert ollama_hosts("https://a.example,http://b,c") == ["https://a.example:443", "http://b:80", "http://c:11434"]
    assert ollama_hosts("https://a.example:443,b") == ["https://a.example:443", "http://b:11434"]
    assert ollama_hosts(["127.0.0.1:1", "[::1]:2", "gpu/ollama/"]) == [
        "http://127.0.0.1:1", "http://[::1]:2", "http://gpu:11434/ollama"]


def _client_examples() -> list[tuple[str, str]]:
    """(argument, answer) of every example in the official client's own `_parse_host` doctests."""
    from ollama._client import _parse_host

    examples = doctest.DocTestParser().get_examples(_parse_host.__doc__ or "")
    found = [(ast.literal_eval(e.source.strip().removeprefix("_parse_host(").removesuffix(")")),
              ast.literal_eval(e.want.strip())) for e in examples]
    return [(arg, want) for arg, want in found if arg]  # None and "" are "unset": the default host


def test_every_form_of_the_clients_doctests_gets_the_clients_answer():
    examples = _client_examples()
    assert len(examples) >= 25 and ("https://example.com", "https://example.com:443") in examples
    for arg, want in examples:
        assert normalize_host(arg) == want, arg


def test_settings_imports_the_client_only_to_parse_a_host_and_survives_a_bad_ollama_host():
    code = (
        "import os, sys\n"
        "from turing_dagster import settings\n"
        "print('AT_IMPORT', 'ollama' in sys.modules)\n"
        "print('PROBLEM', settings.ollama_host_problem())\n"
        "print('PARSED', settings.normalize_host('https://x'), 'ollama' in sys.modules)\n"
        "print('KEPT', os.environ['OLLAMA_HOST'])\n"
    )
    env = {**os.environ, "OLLAMA_HOST": "gpu:port"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "AT_IMPORT False"
    assert lines[1].startswith("PROBLEM OLLAMA_HOST: 'gpu:port' is not an Ollama host (Port could not be cast")
    assert lines[2:] == ["PARSED https://x:443 True", "KEPT gpu:port"]


@pytest.mark.parametrize(
    ("value", "named"),
    [("http://ok:1,ftp://bad:2", "'ftp://bad:2'"), ("a:99999", "'a:99999'"), ("a:port", "'a:port'"),
     ("a,,b", "an empty entry"), ("has space:1", "'has space:1'"), ("x:1:2", "'x:1:2'"), ("[::1", "'[::1'"),
     ("http://", "'http://'"), ("http://me:S3cret@gpu:1", "'http://***@gpu:1'"), ("me:S3cret@gpu", "'***@gpu'")],
)
def test_a_malformed_entry_is_one_line_naming_it(env, value, named):
    env.setenv("TURING_OLLAMA_HOSTS", value)
    with pytest.raises(HostConfigError) as err:
        ollama_hosts()
    text = str(err.value)
    assert text.startswith("TURING_OLLAMA_HOSTS: ") and named in text and "\n" not in text
    assert "S3cret" not in text


def test_ollama_host_is_one_host_and_a_list_there_is_named(env):
    assert ollama_host_problem() is None
    env.setenv("OLLAMA_HOST", "http://127.0.0.1:11434,http://127.0.0.1:11435")
    problem = ollama_host_problem()
    assert "OLLAMA_HOST holds one host" in problem and "TURING_OLLAMA_HOSTS" in problem
    with pytest.raises(HostConfigError):
        ollama_hosts()  # no TURING_OLLAMA_HOSTS: the list in OLLAMA_HOST is not guessed at
    env.setenv("TURING_OLLAMA_HOSTS", "127.0.0.1:11434,127.0.0.1:11435")
    assert len(ollama_hosts()) == 2
    env.setenv("OLLAMA_HOST", "not a host")
    assert ollama_host_problem().startswith("OLLAMA_HOST: 'not a host'")


def test_residency_setting(env):
    assert settings.ollama_residency() == "shared"
    env.setenv("TURING_OLLAMA_RESIDENCY", "Exclusive")
    assert settings.ollama_residency() == "exclusive"
    env.setenv("TURING_OLLAMA_RESIDENCY", "sometimes")
    with pytest.raises(SettingsError, match="TURING_OLLAMA_RESIDENCY"):
        settings.ollama_residency()


def test_resident_models_go_first_within_their_execution_order_only():
    plan = _plan(("e", 1, "gemma3:4b"), ("py", 2, "python:m.x:f"), ("a", 2, "gemma3:4b"), ("b", 2, "gemma2"),
                 ("c", 2, "qwen2.5"), ("d", 3, "gemma3:4b"))
    plain = [s.conversation.name for s in plan.steps]
    assert plain[:2] == ["e", "py"] and plain[-1] == "d"
    assert [s.conversation.name for s in resident_first(plan.steps, set())] == plain
    names = [s.conversation.name for s in resident_first(plan.steps, {"qwen2.5:latest", "gemma2:latest"})]
    assert names[:2] == ["e", "py"] and names[-1] == "d"  # Python steps first; order 3 after order 2
    assert names[2:5] == [n for n in plain[2:5] if n in ("b", "c")] + ["a"]
    assert [s.conversation.name for s in resident_first(plan.steps, ["Gemma3:4B"])][2] == "a"


def test_deadlines_come_from_the_environment_and_a_bad_one_is_one_line(monkeypatch):
    monkeypatch.setenv("TURING_OLLAMA_CONTROL_TIMEOUT", "3")
    monkeypatch.setenv("TURING_OLLAMA_REQUEST_TIMEOUT", "120.5")
    assert settings.ollama_timeouts() == {"control_timeout_seconds": 3.0, "request_timeout_seconds": 120.5}
    monkeypatch.setenv("TURING_OLLAMA_LOAD_TIMEOUT", "soon")
    with pytest.raises(SettingsError, match="TURING_OLLAMA_LOAD_TIMEOUT must be a number of seconds > 0, not 'soon'"):
        settings.ollama_timeouts()


def test_the_hint_for_an_unreachable_host_names_the_variable_that_set_it(monkeypatch):
    from turing_dagster.ollama.errors import how_to_get_ollama

    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:11434")
    monkeypatch.setenv("TURING_OLLAMA_HOSTS", "http://gpu0:11434")
    monkeypatch.setenv("TURING_OLLAMA_HOSTS_JOB_POSTING_PIPELINE", "127.0.0.1:18441, gpu1:9")
    assert how_to_get_ollama("http://127.0.0.1:18441").startswith(
        "point TURING_OLLAMA_HOSTS_JOB_POSTING_PIPELINE at an Ollama server")
    assert how_to_get_ollama("http://gpu0:11434").startswith("point TURING_OLLAMA_HOSTS at an Ollama server")
    assert "and set TURING_OLLAMA_HOSTS=http://127.0.0.1:11434" in how_to_get_ollama("http://gpu0:11434")
    assert how_to_get_ollama("http://127.0.0.1:11434").startswith("point OLLAMA_HOST at an Ollama server")
