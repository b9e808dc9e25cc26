"""Can the agent read its source? On macOS a Photos library needs Full Disk Access, granted to
the program that reads it: this says which program that is and how to grant it."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

LIBRARY_DATABASE = Path("database") / "Photos.sqlite"


def unreadable_reason(kind: str, path: Path) -> str | None:
    """None when the source can be read; otherwise what was refused (a library's database, a
    folder's listing)."""
    target = path / LIBRARY_DATABASE if kind == "library" else path
    try:
        if kind == "library":
            with target.open("rb") as handle:
                handle.read(16)
        else:
            next(os.scandir(target), None)
    except PermissionError:
        return f"permission denied reading {target}"
    except FileNotFoundError:
        return f"{target} does not exist" + (" (is this a Photos library?)" if kind == "library" else "")
    except OSError as exc:
        return f"cannot read {target}: {exc.strerror or exc}"
    return None


def service_interpreter() -> Path:
    """The Python executable the background service runs (what macOS's privacy checks see: the
    venv's `python` is a link to it)."""
    return Path(os.path.realpath(sys.executable))


def full_disk_access_help(reason: str, *, platform: str = sys.platform) -> str:
    """What to do about a refusal: on macOS, Full Disk Access for the interpreter, step by step."""
    interpreter = service_interpreter()
    if platform != "darwin":
        return (
            f"{reason}\nThe program reading it is {interpreter} (what the service runs), as user "
            f"{getpass.getuser()}: give that user read access to it."
        )
    return (
        f"{reason}\n"
        "macOS lets only programs with Full Disk Access read the Photos library. Grant it to:\n"
        f"  {interpreter}\n"
        "  (the Python the background service runs; for this setup, also to your terminal app)\n"
        "How: System Settings > Privacy & Security > Full Disk Access > +, press Cmd+Shift+G, "
        "paste the path above, Open, and switch it on."
    )
