"""Call settings (dict round trip, validation), the call table, per-detection summaries and the
calls CSV (against its golden file, read back with pandas)."""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from bsgbat_gui.core.calls.calls_csv import CALLS_CSV_COLUMNS, CallsCsvWriter
from bsgbat_gui.core.calls.parameters import CALL_FIELDS, CallTable, parabolic_peak_offset
from bsgbat_gui.core.calls.settings import CallSettings, CallSettingsError
from bsgbat_gui.core.calls.summary import summarise_calls

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "calls"


def test_settings_round_trip_through_json() -> None:
    custom = CallSettings(fmin_khz=15, fmax_khz=90, threshold_db=18, min_duration_ms=1)
    text = json.dumps(custom.to_dict())
    assert CallSettings.from_dict(json.loads(text)) == custom
    assert CallSettings.from_dict({}) == CallSettings()
    assert CallSettings.from_dict({"threshold_db": 20}).threshold_db == 20.0
    assert isinstance(CallSettings(fmin_khz=10).fmin_khz, float)


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"fmin_khz": 90, "fmax_khz": 40}, "fmax_khz (40) must be above fmin_khz (90)"),
        ({"threshold_db": 0}, "threshold_db must be greater than 0"),
        ({"extend_db": 20}, "extend_db must be greater than 0 and at most threshold_db"),
        ({"min_duration_ms": -1}, "min_duration_ms must be 0 ms or more"),
        ({"noise_percentile": 100}, "noise_percentile must be between 0 and 100"),
        ({"hop_ms": 5}, "hop_ms must be greater than 0 and at most window_ms"),
        ({"threshold_db": "loud"}, "threshold_db must be a number, not 'loud'"),
        ({"edge_db": float("nan")}, "edge_db must be a finite number"),
        ({"threshold_db": True}, "threshold_db must be a number"),
        ({"sensitivity": 3}, "unknown call setting(s): sensitivity"),
        ({"version": 99}, "version 99 is newer"),
        ({"format": "bsgbat-gui thresholds"}, "not call settings"),
    ],
)
def test_bad_settings_say_what_is_wrong(values: dict[str, object], says: str) -> None:
    with pytest.raises(CallSettingsError, match=None) as caught:
        CallSettings.from_dict(values)
    assert says in str(caught.value)


def test_settings_from_something_not_a_mapping() -> None:
    with pytest.raises(CallSettingsError, match="must be a mapping"):
        CallSettings.from_dict([1, 2])  # type: ignore[arg-type]


def _table() -> CallTable:
    # start, end, duration, fmax, fmin, bandwidth, fme, slope, level, snr (unsorted on purpose)
    rows = [
        (0.250, 0.255, 5.0, 60.0, 30.0, 30.0, 40.0, -6.0, -30.0, 30.0),
        (0.100, 0.104, 4.0, 70.0, 35.0, 35.0, 45.0, -8.75, -20.0, 40.0),
        (0.100, 0.103, 3.0, 95.0, 85.0, 10.0, 90.0, -3.3, -40.0, 20.0),
        (0.400, 0.410, 10.0, 48.0, 42.0, 6.0, 45.0, 0.0, -25.0, 35.0),
    ]
    return CallTable.from_rows(rows)


def test_a_table_is_sorted_by_start_then_fme_with_intervals() -> None:
    table = _table()
    assert table.start_s.tolist() == [0.1, 0.1, 0.25, 0.4]
    assert table.fme_khz.tolist() == [45.0, 90.0, 40.0, 45.0]
    assert math.isnan(table.interval_ms[0])
    assert table.interval_ms[1:] == pytest.approx([0.0, 150.0, 150.0])
    assert [c.start_s for c in table.calls()] == table.start_s.tolist()
    assert len(table.select(table.fme_khz > 44)) == 3
    assert len(CallTable.empty()) == 0
    assert len(CallTable.from_rows([])) == 0
    assert CALL_FIELDS[-1] == "interval_ms"


def test_parabolic_peak_offset() -> None:
    # A parabola through (-1, 0), (0, 3), (1, 2) peaks at x = 0.25.
    assert parabolic_peak_offset(0.0, 3.0, 2.0) == pytest.approx(0.25)
    assert parabolic_peak_offset(1.0, 1.0, 1.0) == 0.0  # flat: no refinement
    assert parabolic_peak_offset(-100.0, 0.0, 0.0) == pytest.approx(0.5)


def test_a_summary_of_the_calls_in_a_span() -> None:
    table = _table()
    summary = summarise_calls(table, 0.0, 0.3)
    assert summary.n_calls == 3
    assert summary.median_fme_khz == pytest.approx(45.0)
    assert summary.median_duration_ms == pytest.approx(4.0)
    assert summary.median_interval_ms == pytest.approx(75.0)  # intervals 0 and 150 ms
    one = summarise_calls(table, 0.3, 1.0)
    assert one.n_calls == 1
    assert one.median_fme_khz == 45.0
    assert math.isnan(one.median_interval_ms)
    none = summarise_calls(table, 2.0, 3.0)
    assert none.n_calls == 0
    assert math.isnan(none.median_fme_khz)
    assert math.isnan(none.median_duration_ms)


def _csv_text() -> str:
    out = io.StringIO()
    writer = CallsCsvWriter(out)
    writer.write_recording('/night/+1 =x, "q".wav', _table(), 1.0)
    writer.write_recording("/night/te.wav", CallTable.empty(), 10.0)
    writer.write_recording("/night/te10.wav", _table().select(np.array([3])), 10.0)
    return out.getvalue()


def test_the_calls_csv_matches_its_golden_file() -> None:
    actual = _csv_text()
    golden = GOLDEN / "calls.csv"
    if os.environ.get("BSGBAT_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8")


def test_the_calls_csv_reads_back_with_pandas() -> None:
    import pandas as pd

    frame = pd.read_csv(io.StringIO(_csv_text()), keep_default_na=False, na_values=[""])
    assert tuple(frame.columns) == CALLS_CSV_COLUMNS
    assert frame["file"].tolist()[:4] == ['/night/+1 =x, "q".wav'] * 4  # verbatim
    assert frame["call"].tolist() == [1, 2, 3, 4, 1]
    table = _table()
    mine = frame[frame["file"] == '/night/+1 =x, "q".wav']
    for name in CALLS_CSV_COLUMNS[2:-1]:
        np.testing.assert_allclose(mine[name], getattr(table, name), atol=1e-3, equal_nan=True)
    assert frame["time_expansion"].tolist() == [1, 1, 1, 1, 10]
    assert math.isnan(frame["interval_ms"].iloc[0])
