"""The reference pages keep up with the code: every `turing` command and option is in docs/operations.md,
every environment variable settings.py reads and every resource field is in docs/configuration.md.

The names come from the code itself (the Click group, settings.py's source, the resource classes'
source), so a new command, option, variable or field without its documentation fails here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest

from turing_dagster import settings
from turing_dagster.cli import cli

DOCS = settings.PROJECT_ROOT / "docs"
SETTINGS = Path(settings.__file__)
RESOURCE_FILES = {
    settings.PROJECT_ROOT / "turing_dagster" / "dagster_defs" / "resources.py": ("TuringStore", "OllamaModels"),
    settings.PROJECT_ROOT / "turing_dagster" / "dagster_defs" / "io_manager.py": ("CheckpointIOManager",),
}
# an environment variable's name as written in settings.py; a trailing `_` is a prefix (TURING_OLLAMA_HOSTS_<WORKFLOW>)
ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+_?")


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, click.Command]]:
    """Every command a user types, as `turing a b`, groups walked down to their leaves."""
    found = []
    for name, command in sorted(group.commands.items()):
        here = (*path, name)
        if isinstance(command, click.Group):
            found += _commands(command, here)
        else:
            found.append((" ".join(("turing", *here)), command))
    return found


def _long_options(command: click.Command) -> list[str]:
    return [opt for param in command.params if isinstance(param, click.Option)
            for opt in param.opts if opt.startswith("--") and opt != "--help"]


def _env_names(source: str) -> set[str]:
    tree = ast.parse(source)
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ENV_NAME.fullmatch(node.value)}


def _fields(path: Path, classes: tuple[str, ...]) -> dict[str, list[str]]:
    """Class -> its public annotated fields (the config a run can set), read from the source."""
    tree = ast.parse(path.read_text())
    return {node.name: [item.target.id for item in node.body
                        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)
                        and not item.target.id.startswith("_")]
            for node in tree.body if isinstance(node, ast.ClassDef) and node.name in classes}


COMMANDS = _commands(cli)


def test_the_introspection_sees_the_commands_variables_and_fields():
    # the walks above must find what is known to be there, or the tests below would pass on nothing
    names = [name for name, _ in COMMANDS]
    assert {"turing run", "turing postings load", "turing workflows retire", "turing simulate-ollama"} <= set(names)
    assert "--wave-size" in _long_options(dict(COMMANDS)["turing run"])
    assert {settings.DATABASE_URL_VAR, "OLLAMA_HOST", "DAGSTER_HOME", *settings.TIMEOUT_VARS} <= _env_names(
        SETTINGS.read_text())
    fields = {c: f for path, classes in RESOURCE_FILES.items() for c, f in _fields(path, classes).items()}
    assert set(fields) == {c for classes in RESOURCE_FILES.values() for c in classes}
    assert {"database_url", "slots_per_host", "chunk_size"} <= {f for names in fields.values() for f in names}


@pytest.mark.parametrize("name", [name for name, _ in COMMANDS])
def test_every_turing_command_and_its_options_are_in_operations_md(name):
    text = (DOCS / "operations.md").read_text()
    assert name in text, f"{name} is not documented in docs/operations.md"
    missing = [opt for opt in _long_options(dict(COMMANDS)[name]) if opt not in text]
    assert not missing, f"{name}: options not in docs/operations.md: {', '.join(missing)}"


def test_every_environment_variable_settings_reads_is_in_configuration_md():
    text = (DOCS / "configuration.md").read_text()
    missing = sorted(name for name in _env_names(SETTINGS.read_text()) if f"`{name}" not in text)
    assert not missing, f"not in docs/configuration.md: {', '.join(missing)}"


def test_every_resource_and_io_manager_field_is_in_configuration_md():
    text = (DOCS / "configuration.md").read_text()
    missing = [f"{cls}.{field}" for path, classes in RESOURCE_FILES.items()
               for cls, fields in _fields(path, classes).items() for field in fields if f"`{field}`" not in text]
    assert not missing, f"not in docs/configuration.md: {', '.join(missing)}"


def test_the_documented_numeric_defaults_are_the_code_defaults():
    text = (DOCS / "configuration.md").read_text()
    for var, default in (("TURING_CHUNK_SIZE", settings.DEFAULT_CHUNK_SIZE),
                         ("TURING_SENSOR_INTERVAL_SECONDS", settings.DEFAULT_SENSOR_INTERVAL_SECONDS)):
        row = next(line for line in text.splitlines() if line.startswith(f"| `{var}` |"))
        assert row.split("|")[2].strip() == f"`{default}`", row
