"""``bsgbat-gui report`` on the shared real recordings' store (``analyze --project`` with the
band-energy test models): a report, a sample drawn, and the recordings without a position or
UTC offset listed, not guessed."""

from __future__ import annotations

import shutil
from html.parser import HTMLParser
from typing import TYPE_CHECKING

import pytest
from cli_runner import run_cli

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.real_recordings


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.svgs = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(v for k, v in attrs if k == "id" and v)
        self.svgs += tag == "svg"


def test_report_of_the_shared_recordings(analysed_store: Path, tmp_path: Path) -> None:
    store = tmp_path / "review.sqlite"
    shutil.copyfile(analysed_store, store)
    out = tmp_path / "report.html"
    rc, stdout, stderr = run_cli(
        ["report", str(store), "--out", str(out), "--sample-per-stratum", "3", "--seed", "1",
         "--site-position", "recordings=51.5,-0.12"]
    )  # fmt: skip
    assert rc == 0, stderr
    assert "sampled" in stdout
    text = out.read_text(encoding="utf-8")
    parser = _Ids()
    parser.feed(text)
    assert {"survey", "sites", "species", "sample", "activity", "nights", "emergence",
            "thresholds", "provenance", "species-table", "sites-table"} <= parser.ids  # fmt: skip
    assert parser.svgs >= 4
    # Only one of the shared recordings has a timestamp with a UTC offset; the others are
    # listed as not placed.
    assert "not placed relative to the sun" in text
