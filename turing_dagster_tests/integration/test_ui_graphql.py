"""The Dagster UI, proven: `turing run` on the sample workflow against the simulator, then a real
`dagster-webserver` on loopback over that instance, asked through its GraphQL API what a user would look
at (assets per group, wave partitions and their status, a materialization's metadata, the asset checks,
the sensor and the job), and photographed by headless Chromium.

Refresh the README's screenshots with
`TURING_SCREENSHOT_DIR=$PWD/docs python -m pytest turing_dagster_tests/integration/test_ui_graphql.py`.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy as sa

from turing_dagster import settings
from turing_dagster.cli import main
from turing_dagster.simulator import ModelProfile, SimulatorConfig, start_simulator
from turing_dagster.store.engine import get_engine
from turing_dagster.store.schema import posting_state_checkpoints as psc
from turing_dagster.store.waves import wave_keys
from turing_dagster.workflows.loader import load_workflows
from turing_dagster.workflows.plan import WorkflowPlan, asset_name
from turing_dagster_tests.conftest import require_in_ci

ROOT = settings.PROJECT_ROOT
WEBSERVER = Path(sys.executable).parent / "dagster-webserver"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
WORKFLOW = "job_posting_pipeline"
LOCATION = {"repositoryName": "__repository__", "repositoryLocationName": "turing"}
SAMPLE = ROOT / "turing_dagster" / "sample_data" / "postings.jsonl"


@dataclass
class UI:
    url: str
    home: Path
    store_url: str
    tmp: Path

    def query(self, text: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": text, "variables": variables or {}}).encode()
        request = urllib.request.Request(f"{self.url}/graphql", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            data = json.loads(answer.read())
        assert "errors" not in data, data["errors"]
        return data["data"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(home: Path, state: Path, ollama: str) -> dict[str, str]:
    """The webserver's environment: this instance and store only, whatever the caller has set."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST", "TURING_", "DAGSTER_")) and k != "OLLAMA_HOST"}
    env.update(DAGSTER_HOME=str(home), TURING_STATE_DIR=str(state), OLLAMA_HOST=ollama, PYTHONPATH=str(ROOT))
    return env


def _loaded(ui: UI) -> bool:
    try:
        data = ui.query("{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }")
    except OSError:
        return False
    entries = data["workspaceOrError"]["locationEntries"]
    return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ui")
    home, state = tmp / "dagster_home", tmp / "state"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    dg.DagsterInstance.from_config(str(home)).dispose()  # its storage exists before two processes open it
    postings = tmp / "postings.jsonl"
    postings.write_text("".join(SAMPLE.read_text().splitlines(keepends=True)[:14]))
    port = _free_port()
    log = (tmp / "webserver.log").open("w")
    # the webserver loads the definitions while `turing run` works: both only read the workflow files
    proc = subprocess.Popen([str(WEBSERVER), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                            cwd=ROOT, env=_env(home, state, "http://127.0.0.1:1"), stdout=log, stderr=subprocess.STDOUT)
    server = UI(f"http://127.0.0.1:{port}", home, f"sqlite:///{state / 'turing.db'}", tmp)
    try:
        config = SimulatorConfig(default_profile=ModelProfile(load_seconds=0.02, request_seconds=0.002), parallel=4)
        with start_simulator(config, port=0) as sim, pytest.MonkeyPatch.context() as env:
            for key in [k for k in os.environ if k.startswith(("TURING_", "DAGSTER_"))]:
                env.delenv(key)
            env.setenv("DAGSTER_HOME", str(home))
            env.setenv("TURING_STATE_DIR", str(state))
            env.setenv("OLLAMA_HOST", sim.url)
            main(["init"])
            main(["postings", "load", str(postings)])
            main(["run", WORKFLOW, "--wave-size", "5"])  # exits non-zero (SystemExit) if a run fails
        deadline = time.monotonic() + 120
        while not _loaded(server):
            assert proc.poll() is None, (tmp / "webserver.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "dagster-webserver did not load turing_dagster in 120 s"
            time.sleep(0.5)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _plan() -> WorkflowPlan:
    return WorkflowPlan(next(w for w in load_workflows(ROOT / "workflow_defs") if w.name == WORKFLOW))


def _waves(ui: UI) -> list[str]:
    return wave_keys(get_engine(ui.store_url), _plan().workflow.workflow_id)


ASSETS = """
query ($group: AssetGroupSelector!) {
  assetNodes(group: $group) {
    assetKey { path } groupName jobNames isPartitioned
    partitionKeysByDimension { partitionKeys }
    assetPartitionStatuses { ... on DefaultPartitionStatuses { materializedPartitions failedPartitions } }
    assetChecksOrError { ... on AssetChecks { checks { name
      executionForLatestMaterialization { status evaluation { success metadataEntries { label } } } } } }
  }
}"""


def _assets(ui: UI) -> dict[str, dict]:
    nodes = ui.query(ASSETS, {"group": {"groupName": WORKFLOW, **LOCATION}})["assetNodes"]
    return {"/".join(n["assetKey"]["path"]): n for n in nodes}


def test_every_conversation_is_an_asset_of_its_group_in_the_workflow_job(ui):
    nodes = _assets(ui)
    expected = [f"{WORKFLOW}/{asset_name(s.conversation)}" for s in _plan().steps]
    assert sorted(nodes) == sorted(expected) and len(expected) == 8
    for node in nodes.values():
        assert node["groupName"] == WORKFLOW and WORKFLOW in node["jobNames"] and node["isPartitioned"]


def test_the_waves_are_partitions_and_each_is_materialized_by_the_run(ui):
    waves = _waves(ui)
    assert waves == ["w000001", "w000002", "w000003"]  # 14 sample postings (one disabled) in waves of 5
    for key, node in _assets(ui).items():
        assert node["partitionKeysByDimension"][0]["partitionKeys"] == waves, key
        status = node["assetPartitionStatuses"]
        assert sorted(status["materializedPartitions"]) == waves and status["failedPartitions"] == [], key


MATERIALIZATION = """
query ($key: AssetKeyInput!, $wave: String!) {
  assetOrError(assetKey: $key) { ... on Asset { assetMaterializations(limit: 1, partitions: [$wave]) {
    partition runId metadataEntries { label
      ... on IntMetadataEntry { intValue } ... on TextMetadataEntry { text }
      ... on PathMetadataEntry { path } ... on MarkdownMetadataEntry { mdStr } } } } }
}"""


def test_a_materialization_carries_the_step_metadata_and_the_gpu_timeline(ui):
    step = _plan().by_name["gemma3_extract"]
    with get_engine(ui.store_url).connect() as conn:
        statuses = dict(conn.execute(
            sa.select(psc.c.status, sa.func.count()).where(
                psc.c.conversation_id == step.conversation.conversation_id, psc.c.wave_key == "w000002"
            ).group_by(psc.c.status)
        ).all())
    data = ui.query(MATERIALIZATION, {"key": {"path": [WORKFLOW, asset_name(step.conversation)]}, "wave": "w000002"})
    (mat,) = data["assetOrError"]["assetMaterializations"]
    meta = {e["label"]: e.get("intValue", e.get("text", e.get("path", e.get("mdStr")))) for e in mat["metadataEntries"]}
    assert mat["partition"] == "w000002"
    assert [e["label"] for e in mat["metadataEntries"]][:3] == ["completed", "failed", "skipped"]  # the wave's own
    assert (meta["completed"], meta["failed"], meta["skipped"]) == tuple(
        statuses.get(s, 0) for s in ("completed", "failed", "skipped")
    )
    assert meta["completed"] > 0 and meta["model"] == "gemma3:4b" and meta["loads"] == 1
    assert "| posting |" in meta["preview"] and "| completed |" in meta["preview"].splitlines()[2]
    assert meta["range"] == "w000001..w000003 (3 waves)"
    # the run's GPU timeline: a picture on the last step's materializations, drawn from every step's records
    last = _plan().steps[-1]
    data = ui.query(MATERIALIZATION, {"key": {"path": [WORKFLOW, asset_name(last.conversation)]}, "wave": "w000002"})
    (end,) = data["assetOrError"]["assetMaterializations"]
    shown = {e["label"]: e.get("mdStr", e.get("path")) for e in end["metadataEntries"]}
    assert shown["gpu_timeline"].startswith(f"![GPU timeline: {WORKFLOW}, run {end['runId'][:8]}")
    assert "](data:image/png;base64,iVBORw0KGgo" in shown["gpu_timeline"]
    picture = Path(shown["gpu_timeline_file"])
    assert picture == ui.home / "turing" / "reports" / f"{end['runId']}.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from turing_dagster.dagster_defs.gpu_timeline import run_events

    events = run_events(get_engine(ui.store_url), _plan(), end["runId"])
    assert [e["conversation"] for e in events] == [s.conversation.name for s in _plan().steps]
    with get_engine(ui.store_url).connect() as conn:
        done = set(conn.execute(sa.select(psc.c.posting_id).where(
            psc.c.conversation_id == step.conversation.conversation_id, psc.c.status == "completed")).scalars())
    chats = {c["key"] for e in events if e["conversation"] == step.conversation.name
             for c in e["calls"] if c["kind"] == "chat" and c["ok"]}
    assert chats == done


def test_asset_checks_show_with_their_results(ui):
    # the definitions decide what the UI must show: their checks, each evaluated by the run; or none at all
    from turing_dagster.definitions import build_definitions

    defined: dict[str, set[str]] = {}
    for check in build_definitions().resolve_asset_graph().asset_check_keys:
        if check.asset_key.path[0] == WORKFLOW:
            defined.setdefault("/".join(check.asset_key.path), set()).add(check.name)
    for key, node in _assets(ui).items():
        checks = node["assetChecksOrError"]["checks"]
        assert {c["name"] for c in checks} == defined.get(key, set()), key
        for check in checks:
            execution = check["executionForLatestMaterialization"]
            assert execution and execution["status"] in {"SUCCEEDED", "FAILED"}, (key, check)
            assert execution["evaluation"]["success"] == (execution["status"] == "SUCCEEDED")


SENSORS_AND_JOBS = """
query ($repo: RepositorySelector!, $job: String!) {
  repositoryOrError(repositorySelector: $repo) { ... on Repository {
    jobs { name isAssetJob }
    sensors { name sensorState { status } targets { pipelineName } } } }
  runsOrError(filter: {pipelineName: $job}) { ... on Runs { results { runId status tags { key value } } } }
}"""


def test_the_sensor_and_the_job_are_there_and_the_run_is_recorded(ui):
    data = ui.query(SENSORS_AND_JOBS, {"repo": LOCATION, "job": WORKFLOW})
    repo = data["repositoryOrError"]
    assert {"name": WORKFLOW, "isAssetJob": True} in repo["jobs"]
    sensor = next(s for s in repo["sensors"] if s["name"] == f"{WORKFLOW}_new_postings")
    assert sensor["targets"] == [{"pipelineName": WORKFLOW}]
    assert sensor["sensorState"]["status"] == "STOPPED"  # as every Dagster sensor: started by the user
    (run,) = data["runsOrError"]["results"]  # one run for the range of waves
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert run["status"] == "SUCCESS"
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
        "w000001", "w000003"
    )
    assert (tags["turing/waves"], tags["turing/scope"]) == ("w000001..w000003", "new")  # shown in the runs list


def _chromium(ui: UI, path: str, *flags: str) -> subprocess.CompletedProcess:
    profile = ui.tmp / f"chromium-{time.monotonic_ns()}"  # a new profile each time: nothing cached
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={profile}", "--window-size=1600,1000", "--virtual-time-budget=15000",
           *flags, f"{ui.url}{path}"]
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)


def _not_blank(png: Path) -> None:
    from PIL import Image

    with Image.open(png) as image:
        assert image.size == (1600, 1000)
        small = image.convert("RGB").resize((320, 200))
        colors = small.getcolors(320 * 200) or []
        # the content right of the navigation: the graph's green nodes, or an asset page's dark text
        content = image.convert("RGB").crop((260, 180, 1600, 1000)).getcolors(1340 * 820) or []
    marked = sum(n for n, (r, g, b) in content if (g > r + 40 and g > b + 10) or r + g + b < 300)
    assert len(colors) > 100 and marked > 2000, f"{png.name} looks blank ({len(colors)} colours, {marked} marks)"


@pytest.mark.browser
def test_screenshots_of_the_asset_graph_and_an_asset_page(ui):
    if CHROMIUM is None:
        require_in_ci("Chromium", "Debian: apt-get install chromium")
    ui.query("mutation { setNuxSeen }")  # the UI's one-time newsletter pop-up, dismissed as a user would
    asset = f"/assets/{WORKFLOW}/03_gemma3_extract"
    dom = _chromium(ui, asset, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    for text in ("03_gemma3_extract", "gemma3_extract (conversation 3335", "completed", "preview"):
        assert text in dom.stdout, text
    has_checks = bool(_assets(ui)[f"{WORKFLOW}/03_gemma3_extract"]["assetChecksOrError"]["checks"])
    shots = {
        "ui_asset_graph.png": f"/locations/turing/asset-groups/{WORKFLOW}",
        "ui_asset_page.png": asset,
        **({"ui_asset_checks.png": f"{asset}?view=checks"} if has_checks else {}),
    }
    target = os.environ.get("TURING_SCREENSHOT_DIR")
    if target:  # refreshing the docs: also the asset's neighbours, drawn large enough to show status and checks
        shots["ui_asset_lineage.png"] = f"{asset}?view=lineage&lineageScope=neighbors&lineageDepth=1"
    for name, path in shots.items():
        png = ui.tmp / name
        done = _chromium(ui, path, f"--screenshot={png}")
        assert done.returncode == 0 and png.exists(), done.stderr[-2000:]
        _not_blank(png)
        if target:
            shutil.copy(png, Path(target) / name)


@pytest.mark.browser
def test_the_gpu_timeline_opens_as_a_picture_on_the_last_step_page(ui):
    if CHROMIUM is None:
        require_in_ci("Chromium", "Debian: apt-get install chromium")
    from PIL import Image

    from .browser import Page

    ui.query("mutation { setNuxSeen }")
    last = asset_name(_plan().steps[-1].conversation)
    (run,) = ui.query(SENSORS_AND_JOBS, {"repo": LOCATION, "job": WORKFLOW})["runsOrError"]["results"]
    with Page(CHROMIUM, ui.tmp / "chromium-timeline") as page:
        page.open(f"{ui.url}/assets/{WORKFLOW}/{last}")
        # a long markdown value shows as a link in the metadata table; a person clicks it to see the picture
        page.wait_for("[...document.querySelectorAll('td')].some(td => td.innerText.trim() === 'gpu_timeline')")
        page.evaluate("""(() => {
            const row = [...document.querySelectorAll('td')].find(td => td.innerText.trim() === 'gpu_timeline');
            const link = row.parentElement.querySelector('a, button');
            link.scrollIntoView(); link.click(); })()""")
        size = page.wait_for("""(() => { const img = document.querySelector('[role=dialog] img');
            return img && img.complete && img.naturalWidth > 0 && [img.naturalWidth, img.naturalHeight, img.alt,
              ...Object.values(img.getBoundingClientRect().toJSON()).slice(0, 4)]; })()""")
        png = page.screenshot(ui.tmp / "ui_gpu_timeline.png")
    width, height, alt, x, y, shown_w, shown_h = size
    assert alt.startswith(f"GPU timeline: {WORKFLOW}, run {run['runId'][:8]}") and width > 400 and height > 200, size
    with Image.open(png) as image:  # the picture as drawn on screen: the resident model's band, in blue
        drawn = image.convert("RGB").crop((int(x), int(y), int(x + shown_w), int(y + shown_h)))
        blue = sum(n for n, (r, g, b) in drawn.getcolors(drawn.width * drawn.height) or [] if b > r + 40)
    assert shown_w > 400 and blue > 5000, f"the timeline is not drawn in the dialog ({blue} blue pixels)"
    target = os.environ.get("TURING_SCREENSHOT_DIR")
    if target:
        shutil.copy(png, Path(target) / "ui_gpu_timeline.png")
