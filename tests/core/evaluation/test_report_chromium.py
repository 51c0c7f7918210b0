"""The survey report in a real browser: headless Chromium (the Debian package ``chromium``)
loads it without console messages, finds its tables and figures in the DOM, and draws a
non-blank page. Skipped where no ``chromium`` is on PATH.

``BSGBAT_REPORT_SCREENSHOT=PATH`` keeps a copy of the screenshot to look at.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from typing import TYPE_CHECKING

import pytest
from cli_runner import run_cli
from report_survey import report_store

if TYPE_CHECKING:
    from pathlib import Path

WIDTH, HEIGHT = 1280, 2000


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("headless Chromium not installed (apt-get install chromium)")


def _run(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--hide-scrollbars",
         f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def _png_size_and_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the (still filtered) scanlines of a PNG: enough to tell blank from
    drawn without an image library."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    offset, idat, width, height = 8, b"", 0, 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    return width, height, zlib.decompress(idat)


def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    browser = _chromium()
    store = report_store(tmp_path / "survey")
    report = tmp_path / "report.html"
    rc, _, stderr = run_cli(
        ["report", str(store), "--out", str(report), "--site-position", "south=51.0,5.0",
         "--sample-per-stratum", "2", "--seed", "3"]
    )  # fmt: skip
    assert rc == 0, stderr
    url = report.as_uri()

    dom = _run(browser, tmp_path / "profile-dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []  # no script errors, no resource that failed to load
    assert "Failed to load resource" not in dom.stderr
    for table in ("sites-table", "species-table", "strata-table", "emergence-table",
                  "thresholds-table", "reviewers-table"):  # fmt: skip
        assert f'id="{table}"' in dom.stdout, table
    assert dom.stdout.count("<svg") == 1 + 2 + 4 + 1  # sites, activity (2), heatmaps, emergence

    screenshot = tmp_path / "report.png"
    shot = _run(browser, tmp_path / "profile-shot", f"--screenshot={screenshot}",
                f"--window-size={WIDTH},{HEIGHT}", url)  # fmt: skip
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert [line for line in shot.stderr.splitlines() if ":CONSOLE" in line] == []
    width, height, scanlines = _png_size_and_pixels(screenshot.read_bytes())
    assert (width, height) == (WIDTH, HEIGHT)
    # A blank page filters to a handful of byte values; text, tables and charts to many.
    assert len(set(scanlines)) > 50
    keep = os.environ.get("BSGBAT_REPORT_SCREENSHOT")
    if keep:
        shutil.copyfile(screenshot, keep)
