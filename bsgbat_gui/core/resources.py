"""Where the app's data files are: icons, the desktop entry, the demo recording.

The repository keeps them in the top-level ``resources/`` folder; an installed package has the
same files as ``bsgbat_gui.resources`` (``pyproject.toml`` maps one onto the other) and a frozen
build beside its executable under ``bsgbat_gui/resources``. One lookup serves all three.
"""

from __future__ import annotations

import shutil
from importlib import resources as importlib_resources
from pathlib import Path

APP_NAME = "bsgbat-gui"  # the user folders' name (data, models, logs)

DEMO_RECORDING = "demo/bsgbat-demo-synthesised-calls.wav"
# Shown wherever the demo is: it is made up, and must never pass for a real recording.
DEMO_NOTICE = "Demo: synthesised bat-like calls, not a real recording (no real species)"
APP_ICON_SVG = "icons/bsgbat-gui.svg"
APP_ICON_SIZES = (16, 32, 48, 64, 128, 256)
DESKTOP_ENTRY = "bsgbat-gui.desktop"


class ResourceMissing(FileNotFoundError):
    """A file the installation should contain is not there (a broken install or build)."""


def resources_dir() -> Path:
    """The folder holding the app's data files."""
    try:
        folder = Path(str(importlib_resources.files("bsgbat_gui.resources")))
    except ModuleNotFoundError:  # a source tree on sys.path without being installed
        folder = Path(__file__).resolve().parents[2] / "resources"
    return folder


def resource_path(relative: str) -> Path:
    """A shipped data file; :class:`ResourceMissing` when the installation lacks it."""
    path = resources_dir() / relative
    if not path.is_file():
        raise ResourceMissing(f"{relative} is missing from {resources_dir()}: reinstall bsgbat-gui")
    return path


def app_icon_png(size: int) -> Path:
    """The app icon at ``size`` pixels."""
    return resource_path(f"icons/bsgbat-gui-{size}.png")


def is_demo_recording(path: Path) -> bool:
    """Whether ``path`` is (a copy of) the demo recording."""
    return path.name == Path(DEMO_RECORDING).name


def user_demo_dir() -> Path:
    """Where the app keeps its copy of the demo recording (the user data folder)."""
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False) / "demo"


def copy_demo_to(folder: Path) -> Path:
    """The demo recording, copied into ``folder`` unless it is there already; its path.

    The app opens the copy, never the installed file, so its review store is made beside the
    copy (the installation folder may be read-only, and must not collect a user's decisions).
    """
    source = resource_path(DEMO_RECORDING)
    target = folder / source.name
    if not (target.is_file() and target.stat().st_size == source.stat().st_size):
        folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        shutil.copyfile(source, partial)
        partial.replace(target)
    return target
