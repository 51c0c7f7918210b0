"""Installation and desktop integration: entry points, the shipped data files, the self-test."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pytest
import soundfile

from bsgbat_gui import __version__
from bsgbat_gui.core.audio.recording import probe_recording
from bsgbat_gui.core.audio.spectrogram import mel_band_centres_hz, mel_power_from_samples
from bsgbat_gui.core.resources import (
    APP_ICON_SIZES,
    APP_ICON_SVG,
    DEMO_RECORDING,
    DESKTOP_ENTRY,
    app_icon_png,
    copy_demo_to,
    resource_path,
    resources_dir,
)

ROOT = Path(__file__).resolve().parent.parent


def _run(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-m", "bsgbat_gui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def test_version_comes_from_the_package_metadata() -> None:
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"bsgbat-gui {version('bsgbat-gui')}"
    assert __version__ == version("bsgbat-gui") != "0+unknown"


def test_self_test_opens_the_demo_offscreen_and_exits_0() -> None:
    result = _run("--self-test")
    assert result.returncode == 0, result.stderr
    assert "self-test passed" in result.stdout
    assert "demo spectrogram" in result.stdout
    assert "ONNX Runtime" in result.stdout


def test_self_test_fails_loudly_when_the_demo_is_missing(tmp_path: Path) -> None:
    # A broken build: resources/ without the demo. The package is imported from a copy whose
    # resources folder lacks it (PYTHONPATH puts the copy first).
    import shutil

    shutil.copytree(ROOT / "bsgbat_gui", tmp_path / "bsgbat_gui")
    (tmp_path / "bsgbat_gui" / "resources").mkdir()
    (tmp_path / "bsgbat_gui" / "resources" / "__init__.py").write_text("")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bsgbat_gui", "--self-test"],
        capture_output=True, text=True, timeout=120, env=env, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert "self-test FAILED" in result.stderr
    assert "demo" in result.stderr


def test_every_package_of_the_source_tree_is_installed() -> None:
    """pyproject lists the packages (resources/ is mapped, which packages.find cannot see)."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "bsgbat_gui").rglob("__init__.py")
    }
    listed = set(config["packages"])
    assert on_disk | {"bsgbat_gui.resources"} == listed
    assert config["package-dir"] == {"bsgbat_gui.resources": "resources"}


def test_the_installed_package_carries_its_data_files() -> None:
    assert resources_dir().resolve() == (ROOT / "resources").resolve()  # editable install
    for relative in (DEMO_RECORDING, APP_ICON_SVG, DESKTOP_ENTRY):
        assert resource_path(relative).stat().st_size > 0
    for size in APP_ICON_SIZES:
        assert app_icon_png(size).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_desktop_entry_is_valid_and_matches_the_app() -> None:
    lines = resource_path(DESKTOP_ENTRY).read_text().splitlines()
    assert lines[0] == "[Desktop Entry]"
    entry = dict(line.split("=", 1) for line in lines[1:] if "=" in line)
    assert entry["Type"] == "Application"
    assert entry["Exec"] == "bsgbat-gui %F"  # files and folders from a file manager
    assert entry["Icon"] == "bsgbat-gui"
    assert entry["StartupWMClass"] == "bsgbat-gui"  # QGuiApplication.setDesktopFileName
    assert "inode/directory" in entry["MimeType"]
    assert "audio/x-wav" in entry["MimeType"]
    assert all(value.endswith(";") for key, value in entry.items() if key in ("Categories",
               "MimeType", "Keywords"))  # fmt: skip


def test_demo_recording_is_synthesised_says_so_and_has_its_calls() -> None:
    path = resource_path(DEMO_RECORDING)
    info = probe_recording(path)
    assert info.header_rate_hz == 384_000
    assert info.channels == 1
    assert info.duration_s == pytest.approx(3.0)
    assert not info.warnings
    note = info.metadata.guano["Note"]
    assert "Synthesised" in note
    assert "not a real recording" in note
    assert info.metadata.timestamp is not None  # the night summary has something to show
    # The three made-up passes are where the generator put them: energy near 46 kHz (the
    # pipistrelle-like calls' tail) in 0.2-1.8 s, near 21 kHz (noctule-like) in 1.0-2.9 s,
    # nothing near 21 kHz before 0.9 s.
    samples, rate = soundfile.read(str(path), dtype="float32")
    centres = mel_band_centres_hz()

    def band_energy(start_s: float, end_s: float, low_hz: float, high_hz: float) -> float:
        power = mel_power_from_samples(samples[int(start_s * rate) : int(end_s * rate)])
        return float(power[:, (centres >= low_hz) & (centres <= high_hz)].mean())

    pipistrelle_like, noctule_like = (43e3, 50e3), (19e3, 24e3)
    assert band_energy(0.4, 0.8, *pipistrelle_like) > 10 * band_energy(2.0, 2.2, *pipistrelle_like)
    assert band_energy(1.2, 1.6, *noctule_like) > 1000 * band_energy(0.1, 0.9, *noctule_like)


def test_demo_copy_is_made_once_and_leaves_the_installation_alone(tmp_path: Path) -> None:
    installed = resource_path(DEMO_RECORDING)
    before = installed.stat().st_mtime_ns
    copy = copy_demo_to(tmp_path / "demo")
    assert copy.read_bytes() == installed.read_bytes()
    mtime = copy.stat().st_mtime_ns
    assert copy_demo_to(tmp_path / "demo") == copy
    assert copy.stat().st_mtime_ns == mtime
    assert installed.stat().st_mtime_ns == before
    assert sorted(p.name for p in (tmp_path / "demo").iterdir()) == [copy.name]
    assert np.isfinite(soundfile.read(str(copy))[0]).all()


def test_desktop_entry_installs_into_the_users_menu(tmp_path: Path) -> None:
    exe = tmp_path / "bin" / "bsgbat-gui"
    exe.parent.mkdir()
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "share")}
    script = ROOT / "packaging" / "install-desktop-entry.sh"
    subprocess.run(["bash", str(script), str(exe)], env=env, check=True, capture_output=True)
    installed = (tmp_path / "share" / "applications" / "bsgbat-gui.desktop").read_text()
    assert f'Exec="{exe}" %F' in installed
    assert f"TryExec={exe}" in installed
    for size in APP_ICON_SIZES:
        assert (tmp_path / f"share/icons/hicolor/{size}x{size}/apps/bsgbat-gui.png").is_file()
    subprocess.run(["bash", str(script), "--remove"], env=env, check=True, capture_output=True)
    assert not (tmp_path / "share" / "applications" / "bsgbat-gui.desktop").exists()
