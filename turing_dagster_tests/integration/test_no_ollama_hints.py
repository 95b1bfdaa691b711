"""A URL that is not an Ollama server, no server at all, a model the server lacks: each said in one line
that names the way out (the real ollama client over HTTP; a stub answering 404 everywhere, the simulator)."""

from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from turing_dagster.cli.validate import validate
from turing_dagster.dagster_defs.resources import OllamaModels
from turing_dagster.ollama.errors import ModelNotFoundError, NotAnOllamaServerError
from turing_dagster.simulator import ModelProfile, SimulatorConfig, start_simulator
from turing_dagster_tests.conftest import WORKFLOWS
from turing_dagster_tests.integration.helpers import make_postings
from turing_dagster_tests.integration.test_ollama_hosts_cli import ROOT, TURING, _env

pytestmark = pytest.mark.timeout(120)


class _NotFound(BaseHTTPRequestHandler):
    """What a web server without Ollama behind the path says to every request."""

    asked: list[str] = []

    def _answer(self) -> None:
        self.asked.append(f"{self.command} {self.path}")
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"404 page not found"
        self.send_response(404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args) -> None:  # quiet
        pass


@pytest.fixture
def not_ollama() -> Iterator[str]:
    """The URL of an HTTP server that answers 404 to everything."""
    _NotFound.asked = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        return free.getsockname()[1]


def test_a_url_answering_404_everywhere_is_not_an_ollama_server_not_a_missing_model(not_ollama):
    with pytest.raises(NotAnOllamaServerError) as err:
        OllamaModels(host=not_ollama).session("gemma3:4b").ensure_available()
    text = str(err.value)
    assert text.startswith(f"{not_ollama} does not answer as an Ollama server (HTTP 404 on /api/show and /api/tags)")
    assert "OLLAMA_HOST or TURING_OLLAMA_HOSTS may carry a wrong path" in text and "\n" not in text
    assert _NotFound.asked == ["POST /api/show", "GET /api/tags"]  # one look more, no retries


def test_a_wrong_path_to_a_real_server_is_named_and_a_missing_model_stays_one(sim):
    with pytest.raises(NotAnOllamaServerError, match=f"^{sim.url}/v1 does not answer as an Ollama server"):
        OllamaModels(host=f"{sim.url}/v1/").session("gemma3:4b").ensure_available()
    with pytest.raises(ModelNotFoundError, match=f"^model 'nosuch:1b' not found on {sim.url}$"):
        OllamaModels(host=sim.url).session("nosuch:1b").ensure_available()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("server", ["none", "not_ollama"])
def test_turing_run_without_an_ollama_says_what_to_do_in_one_line(engine, instance, db_url, workflows_dir, server,
                                                                   request):
    host = request.getfixturevalue("not_ollama") if server == "not_ollama" else f"http://127.0.0.1:{_free_port()}"
    make_postings(engine, 3)
    env = _env(TURING_DATABASE_URL=db_url, OLLAMA_HOST=host, DAGSTER_HOME=str(instance.root_directory))
    done = subprocess.run([*TURING, "run", "branchy"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=100)
    assert done.returncode == 1, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in done.stderr, done.stderr[-2000:]
    if server == "none":
        port = host.rsplit(":", 1)[1]
        assert f"Ollama is not reachable at {host}: connection refused or reset; point OLLAMA_HOST at" in errors[0]
        assert f"`turing simulate-ollama --port {port}`" in errors[0] and "`make demo` starts it" in errors[0]
    else:
        assert f"{host} does not answer as an Ollama server" in errors[0]


def test_validate_warns_about_models_the_server_lacks_with_close_names(workflows_dir, monkeypatch, not_ollama):
    # branchy asks gemma3:4b, gemma2 and qwen2.5; the server has gemma2 as gemma2:latest
    config = SimulatorConfig(models={m: ModelProfile() for m in ("gemma3:1b", "gemma2:latest", "qwen2.5:7b")})
    monkeypatch.delenv("TURING_OLLAMA_HOSTS", raising=False)
    with start_simulator(config, port=0) as server:
        monkeypatch.setenv("OLLAMA_HOST", server.url)
        result = CliRunner().invoke(validate, [str(WORKFLOWS / "branchy.yaml")])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: model gemma3:4b (branchy: summarize, skills) is not on {server.url}; close names there: "
        "gemma3:1b; `ollama pull gemma3:4b` there fetches it",
        f"warning: model qwen2.5 (branchy: improve) is not on {server.url}; close names there: qwen2.5:7b, "
        "gemma2:latest; `ollama pull qwen2.5` there fetches it",
    ]
    monkeypatch.setenv("OLLAMA_HOST", not_ollama)
    result = CliRunner().invoke(validate, [str(WORKFLOWS / "branchy.yaml")])
    assert result.exit_code == 0 and result.stderr.splitlines() == [
        f"warning: {not_ollama} does not answer as an Ollama server (HTTP 404 on /api/tags): OLLAMA_HOST or "
        "TURING_OLLAMA_HOSTS may carry a wrong path (the client keeps it before /api/)"]
