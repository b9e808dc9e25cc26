"""The deployment files parse, use the design's ports, and name only real settings and commands."""

from __future__ import annotations

import configparser
import shlex
import subprocess

import yaml

from image_assistant.config import Settings
from tests.helpers.server import CLI, REPO

DEPLOY = REPO / "deploy"
SETTINGS = {field.alias for field in Settings.model_fields.values()}


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_has_every_part_on_the_design_ports() -> None:
    services = compose()["services"]
    assert {"postgres", "minio", "redis", "api", "worker", "migrate"} <= set(services)
    assert services["postgres"]["image"] == "postgres:16"
    published = {s: [p.split(":")[-2] for p in services[s].get("ports", [])] for s in services}
    assert published["api"] == ["5220"] and published["postgres"] == ["25444"]
    assert "9000" in published["minio"] and published["redis"] == ["26379"]
    assert services["worker"]["deploy"]["replicas"] >= 2


def test_compose_passes_only_real_settings_to_the_app() -> None:
    services = compose()["services"]
    for name in ("api", "worker", "migrate"):
        unknown = set(services[name]["environment"]) - SETTINGS
        assert not unknown, f"{name} sets unknown settings {unknown}"


def assert_real_command(words: list[str]) -> None:
    """The command and its options exist: `--help` after them parses them all first."""
    args = [w for w in words if not w.endswith("image-assistant")]
    result = subprocess.run([CLI, *args, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{args}: {result.stderr}"


def test_compose_and_systemd_run_real_commands() -> None:
    services = compose()["services"]
    for name in ("api", "worker", "migrate"):
        assert_real_command(services[name]["command"])
    for unit in (DEPLOY / "systemd").glob("*.service"):
        parser = configparser.ConfigParser(strict=False, interpolation=None)
        parser.read_string(unit.read_text())
        assert parser["Install"]["WantedBy"]
        for key in ("ExecStart", "ExecStartPre"):
            if key in parser["Service"]:
                assert_real_command(shlex.split(parser["Service"][key])[1:])


def test_the_example_environment_names_only_real_settings() -> None:
    names = {
        line.split("=", 1)[0]
        for line in (DEPLOY / "systemd" / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert names <= SETTINGS
