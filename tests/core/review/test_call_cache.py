"""The store's call measurements: kept per settings, found again, measured again when the file
changes, and the survey's call settings kept with the survey."""

from __future__ import annotations

import json
import os
import sqlite3
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pytest
from audio_factory import chirp_train, write_wav
from cli_runner import run_cli
from model_factory import LABELS

from bsgbat_gui.core.audio.recording import probe_recording
from bsgbat_gui.core.calls.detect import measure_calls
from bsgbat_gui.core.calls.parameters import CALL_FIELDS
from bsgbat_gui.core.calls.settings import CallSettings
from bsgbat_gui.core.calls.summary import summarise_calls
from bsgbat_gui.core.files import sha256_file
from bsgbat_gui.core.review.call_cache import CALL_SETTINGS_META
from bsgbat_gui.core.review.schema import migrate
from bsgbat_gui.core.review.store import ReviewStore

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def recording(tmp_path: Path) -> Path:
    path = tmp_path / "night" / "r0.wav"
    path.parent.mkdir()
    write_wav(path, chirp_train(384_000, 1.5, seed=3), 384_000)
    return path


def test_calls_are_found_again_only_with_the_same_settings_and_file(
    recording: Path, tmp_path: Path
) -> None:
    info = probe_recording(recording)
    settings = CallSettings()
    calls = measure_calls(info, settings)
    assert len(calls) > 0
    store_path = recording.parent / "bsgbat-review.sqlite"
    with ReviewStore.open(store_path) as store:
        assert store.cached_calls(info, settings) is None
        store.save_calls(info, settings, calls, sha256_file(recording))
    with ReviewStore.open(store_path) as store:  # reopened: the same table, column by column
        cached = store.cached_calls(info, settings)
        assert cached is not None
        for name in CALL_FIELDS:
            np.testing.assert_array_equal(getattr(cached, name), getattr(calls, name))
        # Other settings: not this measurement.
        assert store.cached_calls(info, CallSettings(threshold_db=20.0)) is None
        # Touched, same content (a copy, a GUANO write-back keeping the audio): still valid.
        stat = recording.stat()
        os.utime(recording, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        assert store.cached_calls(info, settings) is not None
        # Changed content of the same size: measured again.
        data = bytearray(recording.read_bytes())
        data[-200:] = bytes(200)
        recording.write_bytes(bytes(data))
        assert store.cached_calls(info, settings) is None


def test_no_calls_is_a_measurement_too(tmp_path: Path) -> None:
    silent = tmp_path / "silent.wav"
    write_wav(silent, np.zeros(384_000, np.float32), 384_000)
    info = probe_recording(silent)
    calls = measure_calls(info)
    assert len(calls) == 0
    with ReviewStore.open(tmp_path / "s.sqlite") as store:
        store.save_calls(info, CallSettings(), calls, sha256_file(silent))
        cached = store.cached_calls(info, CallSettings())
        assert cached is not None
        assert len(cached) == 0


def test_the_survey_keeps_its_call_settings(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with ReviewStore.open(path) as store:
        assert store.call_settings() == CallSettings()  # nothing saved: the defaults
        store.set_call_settings(CallSettings(fmin_khz=15.0, threshold_db=18.0))
    with ReviewStore.open(path) as store:
        assert store.call_settings() == CallSettings(fmin_khz=15.0, threshold_db=18.0)
        # Settings this version cannot use are not fatal: the defaults, and the store opens.
        store.set_meta(CALL_SETTINGS_META, '{"threshold_db": -3}')
        assert store.call_settings() == CallSettings()


def test_a_version_3_store_gains_the_call_table(recording: Path, tmp_path: Path) -> None:
    path = tmp_path / "v3.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, 0, 3)
    conn.close()
    info = probe_recording(recording)
    with ReviewStore.open(path) as store:
        assert store.schema_version() == 4
        store.save_calls(info, CallSettings(), measure_calls(info), sha256_file(recording))
        assert store.cached_calls(info, CallSettings()) is not None


def test_exports_carry_each_detections_call_summary(tmp_path: Path, model_set_dir: Path) -> None:
    """analyze --project, calls measured into the store, export: the detections CSV (read by
    pandas) and the Raven tables carry each detection's calls as summarise_calls counts them."""
    night = tmp_path / "night"
    night.mkdir()
    for i in range(2):
        write_wav(night / f"r{i}.wav", chirp_train(384_000, 2.5, seed=40 + i), 384_000)
    store_path = night / "bsgbat-review.sqlite"
    rc, _, err = run_cli(
        ["analyze", str(night), "--models", str(model_set_dir), "--project", str(store_path)]
    )
    assert rc == 0, err
    measured = {}
    with ReviewStore.open(store_path) as store:
        for wav in sorted(night.glob("r*.wav")):
            info = probe_recording(wav)
            measured[wav.name] = measure_calls(info, store.call_settings())
            store.save_calls(info, store.call_settings(), measured[wav.name], sha256_file(wav))
    low = tmp_path / "low.json"  # low thresholds: the band-energy test models detect plenty
    low.write_text(json.dumps({"format": "bsgbat-gui thresholds", "version": 1,
                               "thresholds": dict.fromkeys(LABELS, 0.05)}))  # fmt: skip
    out = tmp_path / "detections.csv"
    rc, _, err = run_cli(
        ["export", str(store_path), "--out", str(out), "--scope", "all", "--thresholds", str(low)]
    )
    assert rc == 0, err
    table = pd.read_csv(out)
    assert len(table) > 0
    for row in table.itertuples():
        summary = summarise_calls(measured[row.file], row.start_s, row.end_s)
        assert row.n_calls == summary.n_calls
        if summary.n_calls:
            assert row.median_fme_khz == pytest.approx(summary.median_fme_khz, abs=0.005)
            assert row.median_call_ms == pytest.approx(summary.median_duration_ms, abs=0.005)
    assert table.n_calls.sum() > 0  # the chirps were found
    raven = tmp_path / "raven"
    rc, _, err = run_cli(
        ["export", str(store_path), "--format", "raven", "--out", str(raven), "--scope", "all",
         "--thresholds", str(low)]
    )  # fmt: skip
    assert rc == 0, err
    selections = pd.concat(pd.read_csv(p, sep="\t") for p in sorted(raven.rglob("*.txt")))
    assert selections["Calls"].sum() == table.n_calls.sum()
