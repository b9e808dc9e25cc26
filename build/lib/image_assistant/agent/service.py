"""Running `agent run` in the background: a launchd agent on macOS, a systemd user unit on Linux.

deploy/agent/ holds what these templates give for a typical installation.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

LABEL = "com.image-assistant.agent"
UNIT = "image-assistant-agent.service"

PLIST = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>{label}</string>
  <key>ProgramArguments</key>
  <array>
{arguments}
  </array>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
  <key>ThrottleInterval</key><integer>60</integer>
  <key>ExitTimeOut</key><integer>120</integer>
  <key>ProcessType</key><string>Background</string>
  <key>StandardOutPath</key><string>{log}</string>
  <key>StandardErrorPath</key><string>{log}</string>
</dict>
</plist>
"""

SYSTEMD = """[Unit]
Description=Image Assistant sync agent
After=network-online.target

[Service]
Type=simple
ExecStart={command}
Restart=on-failure
RestartSec=60
# exit code 3: the device was revoked; restarting would not help
RestartPreventExitStatus=3
# on stop the agent finishes the uploads in flight (a large file: its current part)
TimeoutStopSec=120

[Install]
WantedBy=default.target
"""


# launchd restarts a job that exits non-zero (KeepAlive: SuccessfulExit false) and cannot be
# told that exit 3 (the device was revoked) is final; this shell turns 3 into a clean exit. It
# passes launchd's SIGTERM on to the agent and waits for it to finish what is in flight.
LAUNCHD_WRAPPER = (
    '"$@" & agent=$!; trap \'kill -TERM "$agent" 2>/dev/null\' TERM; '
    'while :; do wait "$agent"; status=$?; kill -0 "$agent" 2>/dev/null || break; done; '
    'if [ "$status" -eq 3 ]; then exit 0; fi; exit "$status"'
)


@dataclass(frozen=True)
class ServiceFile:
    path: Path
    text: str
    load: list[list[str]]
    unload: list[list[str]]


def agent_command(config_dir: Path) -> list[str]:
    executable = Path(sys.executable).with_name("image-assistant")
    program = [str(executable)] if executable.exists() else [sys.executable, "-m", "image_assistant.cli"]
    return [*program, "agent", "--config-dir", str(config_dir), "run"]


def service_file(config_dir: Path, *, platform: str = sys.platform, home: Path | None = None) -> ServiceFile:
    home = home or Path.home()
    command = agent_command(config_dir)
    if platform == "darwin":
        path = home / "Library" / "LaunchAgents" / f"{LABEL}.plist"
        wrapped = ["/bin/sh", "-c", LAUNCHD_WRAPPER, LABEL, *command]
        arguments = "\n".join(f"    <string>{escape(a)}</string>" for a in wrapped)
        text = PLIST.format(label=LABEL, arguments=arguments, log=escape(str(config_dir / "agent.log")))
        return ServiceFile(
            path, text, [["launchctl", "load", "-w", str(path)]], [["launchctl", "unload", str(path)]]
        )
    path = home / ".config" / "systemd" / "user" / UNIT
    text = SYSTEMD.format(command=shlex.join(command))
    load = [["systemctl", "--user", "daemon-reload"], ["systemctl", "--user", "enable", "--now", UNIT]]
    unload = [["systemctl", "--user", "disable", "--now", UNIT]]
    return ServiceFile(path, text, load, unload)


def install(service: ServiceFile, *, load: bool) -> list[str]:
    """Write the file and (unless told not to) load it; returns problems from the loader."""
    service.path.parent.mkdir(parents=True, exist_ok=True)
    service.path.write_text(service.text)
    return _run_all(service.load) if load else []


def uninstall(service: ServiceFile, *, load: bool) -> list[str]:
    problems = _run_all(service.unload) if load and service.path.exists() else []
    service.path.unlink(missing_ok=True)
    return problems


def _run_all(commands: list[list[str]]) -> list[str]:
    problems = []
    for command in commands:
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as exc:
            problems.append(f"{command[0]}: {exc}")
            continue
        if result.returncode != 0:
            problems.append(f"{' '.join(command)}: {result.stderr.strip() or result.returncode}")
    return problems
