"""Numeric TURING_* settings are checked where they are read: one line naming the variable, exit 2."""

from __future__ import annotations

import pytest

from turing_dagster import settings
from turing_dagster.cli.errors import USER_ERRORS, exit_code_for
from turing_dagster.ollama.errors import how_to_get_ollama, unreachable
from turing_dagster.settings import HostConfigError, SettingsError

# variable -> (reader, the value when unset, a good value and what it reads as, the range in the message)
READERS = {
    "TURING_CHUNK_SIZE": (settings.chunk_size, 35, ("7", 7), "a whole number >= 1"),
    "TURING_SENSOR_INTERVAL_SECONDS": (settings.sensor_interval_seconds, 30, (" 2 ", 2),
                                       "a whole number of seconds >= 1"),
    **{var: (lambda field=field: settings.ollama_timeouts().get(field), None, ("0.5", 0.5), "a number of seconds > 0")
       for var, field in settings.TIMEOUT_VARS.items()},
}


@pytest.fixture(autouse=True)
def _unset(monkeypatch):
    for var in READERS:
        monkeypatch.delenv(var, raising=False)


@pytest.mark.parametrize("var", sorted(READERS))
def test_unset_or_blank_is_the_default_and_a_good_value_is_read(var, monkeypatch):
    read, default, (raw, value), _ = READERS[var]
    assert read() == default
    monkeypatch.setenv(var, "  ")
    assert read() == default
    monkeypatch.setenv(var, raw)
    assert read() == value and type(read()) is type(value)


@pytest.mark.parametrize("var", sorted(READERS))
@pytest.mark.parametrize("raw", ["0", "-1", "abc", "nan", "inf", "1e999"])
def test_out_of_range_or_not_a_number_is_one_line_naming_variable_and_range(var, raw, monkeypatch):
    read, _, _, expected = READERS[var]
    monkeypatch.setenv(var, raw)
    with pytest.raises(SettingsError) as err:
        read()
    assert str(err.value) == f"{var} must be {expected}, not {raw!r}"


@pytest.mark.parametrize("var", ["TURING_CHUNK_SIZE", "TURING_SENSOR_INTERVAL_SECONDS"])
def test_a_whole_number_setting_refuses_a_fraction(var, monkeypatch):
    monkeypatch.setenv(var, "2.5")
    with pytest.raises(SettingsError, match=rf"^{var} must be a whole number"):
        READERS[var][0]()


def test_bad_settings_are_user_errors_with_exit_2():
    assert issubclass(HostConfigError, SettingsError) and issubclass(SettingsError, USER_ERRORS)
    assert exit_code_for(SettingsError("x")) == exit_code_for(HostConfigError("x")) == 2


def test_a_comma_in_one_configured_host_is_one_line():
    with pytest.raises(HostConfigError) as err:
        settings.ollama_hosts(["gpu0:1,gpu1:2"])
    assert str(err.value).startswith("Ollama hosts in the resource config: 'gpu0:1,gpu1:2' is not an Ollama host")


@pytest.mark.parametrize(
    ("host", "command", "point"),
    [("http://127.0.0.1:11434", "--port 11434`", False), ("http://localhost:8080", "--port 8080`", False),
     ("http://gpu7:11500", "--port 11500`", True), ("http://127.0.0.1:9/ollama", "--port 9`", True)],
)
def test_the_hint_names_the_stand_in_on_the_hosts_port(host, command, point):
    hint = how_to_get_ollama(host)
    assert f"`turing simulate-ollama {command}" in hint and "OLLAMA_HOST" in hint and "`make demo`" in hint
    port = command.split()[1].rstrip("`")
    assert (f"set OLLAMA_HOST=http://127.0.0.1:{port}" in hint) is point  # a remote host must be pointed away
    line = str(unreachable(host, "connection refused or reset"))
    assert line.startswith(f"Ollama is not reachable at {host}: connection refused or reset; point OLLAMA_HOST")
    assert "\n" not in line
