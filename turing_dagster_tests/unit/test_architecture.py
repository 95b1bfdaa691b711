"""The package's shape: layers import one way, no cycles (lazy and type-only imports included), a CLI
that starts without Dagster. See docs/architecture.md."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import turing_dagster

PACKAGE = Path(turing_dagster.__file__).parent
ROOT = "turing_dagster"

# layer -> top-level imports it must never make (directly, lazily or for typing)
FORBIDDEN = {
    "workflows": {"dagster", "sqlalchemy", f"{ROOT}.store", f"{ROOT}.steps", f"{ROOT}.ollama", f"{ROOT}.dagster_defs",
                  f"{ROOT}.cli"},
    "store": {"dagster", f"{ROOT}.steps", f"{ROOT}.ollama", f"{ROOT}.dagster_defs", f"{ROOT}.cli"},
    "ollama": {"dagster", "sqlalchemy", f"{ROOT}.store", f"{ROOT}.steps", f"{ROOT}.dagster_defs", f"{ROOT}.cli"},
    "steps": {"dagster", f"{ROOT}.dagster_defs", f"{ROOT}.cli"},
    "dagster_defs": {f"{ROOT}.cli"},
    "report": {"dagster", "sqlalchemy", f"{ROOT}.store", f"{ROOT}.steps", f"{ROOT}.dagster_defs", f"{ROOT}.cli"},
    "simulator": {"dagster", f"{ROOT}.dagster_defs", f"{ROOT}.steps", f"{ROOT}.store"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every import in the file, wherever it stands; relative ones resolved, `from pkg import mod` -> pkg.mod."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in known else base)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: {i for i in imports_of(name, path, known) if i in known} for name, path in mods.items()}


def test_no_import_cycle_anywhere():
    edges = graph()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)
    assert cycles == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_import_one_way(layer):
    mods = modules()
    known = set(mods)
    offending = []
    for name, path in mods.items():
        if not name.startswith(f"{ROOT}.{layer}"):
            continue
        for imported in imports_of(name, path, known):
            top = imported.split(".")[0]
            if any(imported == f or imported.startswith(f + ".") or top == f for f in FORBIDDEN[layer]):
                offending.append(f"{name} imports {imported}")
    assert offending == []


def test_no_module_over_about_300_lines():
    long = {name: n for name, p in modules().items() if (n := len(p.read_text().splitlines())) > 310}
    assert long == {}


def test_no_private_dagster_imports():
    private = [
        f"{name}: {i}"
        for name, path in modules().items()
        for i in imports_of(name, path, set())
        if i.startswith("dagster._")
    ]
    assert private == []


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["validate"], ["postings", "--help"], ["init", "--help"], ["status", "--help"], ["report", "--help"]],
)
def test_cli_commands_that_need_no_dagster_do_not_import_it(argv):
    code = (
        "import sys\n"
        "from turing_dagster.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "loaded = sorted(m for m in sys.modules if m == 'dagster' or m.startswith('dagster.'))\n"
        "print('DAGSTER', len(loaded))\n"
        "print('AIOHTTP', 'aiohttp' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "DAGSTER 0" in out.stdout, out.stdout + out.stderr
    # the simulator's server is imported only to serve: every command would pay ~0.3 s for aiohttp
    assert "AIOHTTP False" in out.stdout, out.stdout + out.stderr


def test_init_and_postings_load_do_not_import_dagster(tmp_path):
    # `turing init` creates the Dagster instance's storage in a child process, not in its own
    jsonl = tmp_path / "p.jsonl"
    jsonl.write_text('{"posting_id": "a1", "job_title": "Cook", "job_description": "Cook soup."}\n')
    code = (
        "import sys\n"
        "from turing_dagster.cli import main\n"
        "main(['init'])\n"
        f"main(['postings', 'load', {str(jsonl)!r}])\n"
        "print('DAGSTER', sum(1 for m in sys.modules if m == 'dagster' or m.startswith('dagster.')))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "TURING_STATE_DIR": str(tmp_path / "state"),
           "DAGSTER_HOME": str(tmp_path / "home")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert "DAGSTER 0" in out.stdout, out.stdout + out.stderr
    assert (tmp_path / "home" / "history" / "runs.db").exists(), out.stdout + out.stderr  # init made the instance
