"""deploy/ and dagster.yaml, the files a user copies: they parse, and they agree with each other
(the Ollama hosts Turing is given are the Ollama services deployed, the queue limits Turing's pools)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import dagster as dg
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
YAML_FILES = sorted([ROOT / "dagster.yaml", *DEPLOY.rglob("*.yml"), *DEPLOY.rglob("*.yaml")])


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def _env(entries) -> dict[str, str]:
    # compose takes a mapping; Kubernetes a list of {name, value}
    if isinstance(entries, dict):
        return {k: str(v) for k, v in entries.items()}
    return {e["name"]: str(e.get("value")) for e in entries or []}


def test_every_yaml_file_parses():
    assert len(YAML_FILES) >= 7, YAML_FILES
    for path in YAML_FILES:
        docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
        assert docs and all(isinstance(d, dict) for d in docs), path


@pytest.mark.parametrize("path", [ROOT / "dagster.yaml", DEPLOY / "dagster.yaml"], ids=["root", "deploy"])
def test_the_instance_keeps_one_run_per_ollama_pool_for_the_whole_run(path, tmp_path):
    config = _load(path)
    # Dagster itself reads the settings (storage swapped for SQLite: no server here)
    config.pop("storage", None)
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        concurrency = instance.get_concurrency_config()
        assert concurrency.pool_config.pool_granularity.value == "run"  # a slot is held for the whole run
        assert concurrency.pool_config.default_pool_limit == 1
        assert concurrency.run_queue_config.max_concurrent_runs > 1  # runs on different hosts proceed together


def test_the_team_instance_reads_postgres_settings_from_the_environment():
    db = _load(DEPLOY / "dagster.yaml")["storage"]["postgres"]["postgres_db"]
    assert db["scheme"] == "postgresql+psycopg2"
    assert {k: v["env"] for k, v in db.items() if k != "scheme"} == {
        "hostname": "DAGSTER_PG_HOST", "port": "DAGSTER_PG_PORT", "db_name": "DAGSTER_PG_DB",
        "username": "DAGSTER_PG_USER", "password": "DAGSTER_PG_PASSWORD"}


def test_compose_runs_every_part_and_points_turing_at_every_ollama():
    compose = _load(DEPLOY / "docker-compose.yml")
    services = compose["services"]
    assert {"postgres", "webserver", "daemon", "user_code"} <= set(services)
    ollamas = {name: s for name, s in services.items() if name.startswith("ollama")}
    assert len(ollamas) >= 2
    devices = []
    for name, service in ollamas.items():
        (device,) = service["deploy"]["resources"]["reservations"]["devices"]
        assert device["driver"] == "nvidia" and "gpu" in device["capabilities"], name
        devices += device["device_ids"]
    assert len(devices) == len(set(devices)) == len(ollamas)  # a GPU each
    hosts = _env(services["user_code"]["environment"])["TURING_OLLAMA_HOSTS"].split(",")
    assert sorted(urlsplit(h).hostname for h in hosts) == sorted(ollamas)
    assert {urlsplit(h).port for h in hosts} == {11434}
    # the whole instance (storage, queue) is the same file everywhere; PG settings on every Dagster process
    for name in ("user_code", "webserver", "daemon"):
        assert _env(services[name]["environment"])["DAGSTER_PG_HOST"] == "postgres", name
    pg = _env(services["postgres"]["environment"])
    assert pg["POSTGRES_DB"] == _env(services["daemon"]["environment"])["DAGSTER_PG_DB"]
    assert "@postgres:5432/turing" in _env(services["user_code"]["environment"])["TURING_DATABASE_URL"]
    assert "CREATE DATABASE turing" in (DEPLOY / "postgres-init.sql").read_text()


def test_webserver_and_daemon_find_the_code_server_the_image_starts():
    (location,) = _load(DEPLOY / "workspace.yaml")["load_from"]
    grpc = location["grpc_server"]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M)
    assert cmd and yaml.safe_load(cmd.group(1))[:3] == ["dagster", "code-server", "start"]
    args = yaml.safe_load(cmd.group(1))
    assert str(grpc["port"]) in args
    # the image serves the module the repository's own workspace loads, under the same location name
    (local,) = _load(ROOT / "workspace.yaml")["load_from"]
    assert args[args.index("-m") + 1] == local["python_module"]["module_name"]
    assert grpc["location_name"] == local["python_module"]["location_name"]
    assert grpc["host"] in _load(DEPLOY / "docker-compose.yml")["services"]
    for source in re.findall(r"^COPY (\S+)", dockerfile, re.M):
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, which is not in the repository"


def test_helm_values_launch_runs_on_kubernetes_and_reach_every_ollama_service():
    values = _load(DEPLOY / "helm" / "values.yaml")
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    queue = values["dagsterDaemon"]["runCoordinator"]
    assert queue["type"] == "QueuedRunCoordinator"
    assert values["concurrency"]["enabled"]
    assert values["concurrency"]["pools"] == {"granularity": "run", "defaultLimit": 1}  # as dagster.yaml
    (code,) = values["dagster-user-deployments"]["deployments"]
    assert code["codeServerArgs"] == ["-m", "turing_dagster.definitions"]
    assert code["includeConfigInLaunchedRuns"]["enabled"]  # run pods get TURING_OLLAMA_HOSTS too
    hosts = _env(code["env"])["TURING_OLLAMA_HOSTS"].split(",")

    manifests = [d for d in yaml.safe_load_all((DEPLOY / "k8s" / "ollama.yaml").read_text()) if d]
    services = {d["metadata"]["name"]: d for d in manifests if d["kind"] == "Service"}
    deployments = [d for d in manifests if d["kind"] == "Deployment"]
    assert len(deployments) == len(services) >= 2
    expected = {f"{name}.{s['metadata']['namespace']}.svc.cluster.local:{s['spec']['ports'][0]['port']}"
                for name, s in services.items()}
    assert {urlsplit(h).netloc for h in hosts} == expected
    nodes = []
    for deployment in deployments:
        spec = deployment["spec"]["template"]["spec"]
        (container,) = spec["containers"]
        assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
        assert spec.get("nodeSelector") or spec.get("affinity"), deployment["metadata"]["name"]
        nodes.append(yaml.safe_dump(spec.get("nodeSelector") or spec.get("affinity")))
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert any(s["spec"]["selector"].items() <= labels.items() for s in services.values())
    assert len(set(nodes)) == len(nodes)  # one per GPU node
    kustomization = _load(DEPLOY / "k8s" / "kustomization.yaml")
    assert {p.name for p in (DEPLOY / "k8s").glob("*.yaml")} - {"kustomization.yaml"} == set(
        kustomization["resources"])
