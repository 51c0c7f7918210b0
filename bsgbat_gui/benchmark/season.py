"""A season in one review store: 100,000 recordings × ~9 windows × 6 models, measured.

:func:`build_season` writes a synthetic survey folder the way a season of ``analyze --project``
runs would leave it, without running a model:

* one recording per file, 4–6 s of 384 kHz PCM_16 (7–11 model windows), in nights of 1,000.
  Each is a real WAV header followed by a **sparse** hole of silence (``truncate``): the file
  has the size, modification time and header the store's cache rule checks
  (:meth:`~bsgbat_gui.core.review.analysis_cache.AnalysisRecords.cached_analysis`: same size
  and time, same number of windows as the header gives), yet takes one disk block;
* the review store beside them: every recording's six models' logits (float32 blobs, as
  ``save_analysis`` writes them) shaped so that ~5 species per recording cross the default
  0.5 threshold in runs (about 9 events per recording, ~0.9 M for the season), and decisions on
  every event of 5 % of the recordings (marked reviewed);
* a model-set folder of placeholder files: the window identifies the set by its files' hashes
  (every analysis comes from the store), it never runs them.

Each measurement then runs in a fresh process (``python -m bsgbat_gui.benchmark.season
window|export|append …`` prints one JSON line), as the app or the command would:

* ``window``: the real window, offscreen, opens the survey folder: time until the first
  recording's spectrogram is painted and its tracks set (``season_open_first_recording_s``),
  until every analysis is in (``season_all_loaded_s``); then a threshold change (recordings
  table, shading, detections table, repainted), the recordings and detections filters and
  sorts, "next unreviewed recording"; the process's peak RSS (``season_peak_rss_mb``);
* ``export``: ``bsgbat-gui export STORE --scope verified`` (CSV): time and the peak RSS above
  the process's size before it started;
* ``append``: what ``analyze --project`` does in the store per file (look the file up in the
  cache, keep its analysis, committed), appending to an empty store and to the season's: the
  median ms per file, and their ratio (``season_analyze_append_slowdown``). The file's own work
  (header, content hash, inference) is done as the command does it but not timed: it does not
  depend on the store.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bsgbat_gui.benchmark.child import run_measurement

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from bsgbat_gui.core.analysis.analyse import RecordingAnalysis

SAMPLE_RATE_HZ = 384_000
DURATIONS_S = (4.0, 4.5, 5.0, 5.5, 6.0)  # 7 to 11 model windows
RECORDINGS_PER_NIGHT = 1_000
N_MODELS = 6
DECIDED_FRACTION = 0.05
ACTIVE_SPECIES = 5  # per recording: ~9 events at the default thresholds
SURVEY_DIRNAME = "survey"
MODELS_DIRNAME = "models"
INSERT_CHUNK = 2_000


@dataclass(frozen=True)
class BuiltSeason:
    survey: Path
    store: Path
    models: Path
    recordings: int
    decisions: int
    build_s: float
    disk_mb: float  # blocks actually used by the survey folder (files and store)
    apparent_gb: float  # the files' sizes added up (what they would take unsparse)


# -- building ---------------------------------------------------------------------------------


def wav_header(frames: int, rate_hz: int = SAMPLE_RATE_HZ) -> bytes:
    """The 44-byte header of a mono PCM_16 WAV of ``frames`` samples."""
    data_bytes = 2 * frames
    return (
        b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate_hz, 2 * rate_hz, 2, 16)
        + b"data" + struct.pack("<I", data_bytes)
    )  # fmt: skip


def write_sparse_wav(path: Path, frames: int) -> os.stat_result:
    """A WAV of ``frames`` samples of silence that takes one disk block: its header, then a hole
    up to the size the header promises. Returns its stat."""
    with path.open("wb") as f:
        f.write(wav_header(frames))
        f.truncate(44 + 2 * frames)
    return path.stat()


def write_placeholder_models(folder: Path) -> Path:
    """A model-set folder the window accepts and identifies (files, labels), never runs."""
    from bsgbat_gui.core.model_card import LABELS_FILENAME, MODEL_FILENAMES
    from bsgbat_gui.core.species import SPECIES

    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(MODEL_FILENAMES):
        (folder / name).write_bytes(f"season benchmark placeholder model {i}\n".encode())
    (folder / LABELS_FILENAME).write_text(
        "\n".join(s.scientific_name for s in SPECIES) + "\n", encoding="utf-8"
    )
    return folder


def season_logits(
    rng: np.random.Generator, n_segments: int, n_labels: int, background: int
) -> np.ndarray:
    """``[6, n_segments, n_labels]`` float32 logits of one recording: ~5 species wandering
    across the 0.5 threshold in runs, the rest low, Background high where nothing is."""
    level = np.full((n_segments, n_labels), -4.5)
    species = [k for k in range(n_labels) if k != background]
    active = rng.choice(species, size=ACTIVE_SPECIES, replace=False)
    walk = rng.normal(0.0, 1.6, (n_segments, ACTIVE_SPECIES))
    walk[1:] = 0.5 * walk[1:] + 0.5 * walk[:-1]  # a little memory: runs of 1-4 windows
    level[:, active] = walk - 0.2
    level[:, background] = 2.0 - 1.5 * (walk.max(axis=1) > 0)
    per_model = level[None] + rng.normal(0.0, 0.35, (N_MODELS, n_segments, n_labels))
    return per_model.astype("<f4")


def build_season(
    folder: Path,
    n_recordings: int,
    *,
    seed: int = 0,
    log: Callable[[str], None] | None = None,
) -> BuiltSeason:
    """Write the survey folder, its store and a placeholder model set under ``folder``."""
    from bsgbat_gui.core.analysis.analyse import windows_for
    from bsgbat_gui.core.analysis.detections import detection_events
    from bsgbat_gui.core.analysis.thresholds import DEFAULT_THRESHOLD
    from bsgbat_gui.core.files import canonical_path
    from bsgbat_gui.core.models.ensemble import sigmoid
    from bsgbat_gui.core.models.locate import read_model_set
    from bsgbat_gui.core.review.analysis_cache import model_set_id
    from bsgbat_gui.core.review.decisions import now_iso
    from bsgbat_gui.core.review.locations import STORE_FILENAME
    from bsgbat_gui.core.review.store import ReviewStore

    started = time.perf_counter()
    survey = canonical_path(folder) / SURVEY_DIRNAME
    survey.mkdir(parents=True)
    models = write_placeholder_models(canonical_path(folder) / MODELS_DIRNAME)
    model_set = read_model_set(models)
    labels = list(model_set.labels)
    background = labels.index("Background")
    thresholds = np.full(len(labels), DEFAULT_THRESHOLD)
    store_path = survey / STORE_FILENAME
    with ReviewStore.open(store_path) as store:  # the schema, as the app makes it
        set_id = model_set_id(model_set, store)
    rng = np.random.default_rng(seed)
    durations = rng.choice(len(DURATIONS_S), size=n_recordings)
    decided = set(
        rng.choice(n_recordings, size=round(n_recordings * DECIDED_FRACTION), replace=False)
        .tolist()
    )  # fmt: skip
    frames_of = [round(d * SAMPLE_RATE_HZ) for d in DURATIONS_S]
    windows_of = []
    for frames in frames_of:
        from bsgbat_gui.core.audio.recording import RecordingInfo

        info = RecordingInfo(Path("x.wav"), SAMPLE_RATE_HZ, 1, frames, "WAV", "PCM_16", 1.0, "none")
        windows_of.append(tuple(windows_for(info)))
    created = now_iso()
    labels_json, names_json = json.dumps(labels), json.dumps(list(model_set.model_names))
    night_start = np.datetime64("2024-04-01T20:00:00")
    conn = sqlite3.connect(store_path, isolation_level=None)
    conn.execute("PRAGMA synchronous=OFF")
    n_decisions = 0
    apparent = 0
    try:
        conn.execute("BEGIN")
        recordings: list[tuple[Any, ...]] = []
        analyses: list[tuple[Any, ...]] = []
        decisions: list[tuple[Any, ...]] = []
        for k in range(n_recordings):
            night, index = divmod(k, RECORDINGS_PER_NIGHT)
            night_dir = survey / f"night-{night + 1:03d}"
            if index == 0:
                night_dir.mkdir()
            name = f"rec-{k + 1:06d}.wav"
            which = int(durations[k])
            frames = frames_of[which]
            stat = write_sparse_wav(night_dir / name, frames)
            apparent += stat.st_size
            when = night_start + np.timedelta64(night, "D") + np.timedelta64(index * 20, "s")
            metadata = {
                "header_rate_hz": SAMPLE_RATE_HZ, "header_frames": frames, "format": "WAV",
                "subtype": "PCM_16", "channels": 1, "time_expansion_source": "none",
                "timestamp": str(when), "latitude": 52.1, "longitude": 5.2, "guano": {},
            }  # fmt: skip
            rid = k + 1
            recordings.append(
                (rid, f"{night_dir.name}/{name}", stat.st_size, stat.st_mtime_ns,
                 f"{k:064x}", 1.0, json.dumps(metadata), int(k in decided))
            )  # fmt: skip
            windows = windows_of[which]
            logits = season_logits(rng, len(windows), len(labels), background)
            analyses.append(
                (rid, set_id, 1.0, labels_json, names_json, *logits.shape, logits.tobytes(),
                 created)
            )  # fmt: skip
            if k in decided:
                probabilities = sigmoid(logits.mean(axis=0))
                events = detection_events(probabilities, windows, thresholds, labels)
                for e in range(len(events)):
                    draw = rng.random()
                    status = "confirmed" if draw < 0.8 else "rejected" if draw < 0.95 else (
                        "relabelled"
                    )  # fmt: skip
                    species = labels[int(events.label_index[e])]
                    final = labels[(int(events.label_index[e]) + 1) % background] if (
                        status == "relabelled"
                    ) else ""  # fmt: skip
                    decisions.append(
                        (rid, species, float(events.start_s[e]), float(events.end_s[e]), status,
                         final, "", "season benchmark", created)
                    )  # fmt: skip
            if len(recordings) >= INSERT_CHUNK or k == n_recordings - 1:
                _insert(conn, recordings, analyses, decisions)
                n_decisions += len(decisions)
                recordings, analyses, decisions = [], [], []
                if log is not None and (k + 1) % 20_000 == 0:
                    log(f"  {k + 1} recordings written…")
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return BuiltSeason(
        survey=survey,
        store=store_path,
        models=models,
        recordings=n_recordings,
        decisions=n_decisions,
        build_s=time.perf_counter() - started,
        disk_mb=_disk_mb(survey),
        apparent_gb=apparent / 1e9,
    )


def _insert(
    conn: sqlite3.Connection,
    recordings: Sequence[tuple[Any, ...]],
    analyses: Sequence[tuple[Any, ...]],
    decisions: Sequence[tuple[Any, ...]],
) -> None:
    conn.executemany(
        "INSERT INTO recordings(id, path, size, mtime_ns, content_sha256, time_expansion,"
        " metadata_json, reviewed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        recordings,
    )
    conn.executemany(
        "INSERT INTO analyses(recording_id, model_set_id, time_expansion, labels_json,"
        " model_names_json, n_models, n_segments, n_labels, logits, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        analyses,
    )
    conn.executemany(
        "INSERT INTO decisions(recording_id, species, start_s, end_s, status, final_species,"
        " note, reviewer, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        decisions,
    )


def _disk_mb(folder: Path) -> float:
    """Blocks used under ``folder`` (``st_blocks`` are 512-byte units), in MB."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            total += (Path(root) / name).lstat().st_blocks * 512
    return total / 1e6


# -- measuring: helpers -------------------------------------------------------------------------


def _rss_mb(field: str) -> float:
    """``VmRSS`` (now) or ``VmHWM`` (peak) of this process, MB (Linux); 0 elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _timed_ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


# -- measuring: the window ----------------------------------------------------------------------


def measure_window(survey: Path, models: Path, *, repeats: int = 5) -> dict[str, Any]:
    """Open ``survey`` in the real window (offscreen) and time what the reviewer does."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QApplication

    from bsgbat_gui.benchmark.window_timing import first_picture_times, run_until
    from bsgbat_gui.gui.app import exempt_startup_objects_from_gc
    from bsgbat_gui.gui.main_window import MainWindow
    from bsgbat_gui.gui.recordings_panel import COL_SPECIES
    from bsgbat_gui.gui.settings import AppSettings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    n_files = sum(1 for p in survey.rglob("*.wav"))
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bsgbat-season-window-") as tmp:
        settings = AppSettings(QSettings(str(Path(tmp) / "s.ini"), QSettings.Format.IniFormat))
        window = MainWindow(paths=[], models_dir=models, settings=settings)
        window.resize(1600, 1000)
        window.show()
        exempt_startup_objects_from_gc()
        run_until(lambda: window.spectrogram_loader.process.is_ready, 120)
        run_until(lambda: False, 1.0)
        result["season_window_baseline_rss_mb"] = round(_rss_mb("VmRSS"), 1)
        shown_at = first_picture_times(window)
        session = window.session
        started = time.perf_counter()
        window.open_paths([survey])
        first_shown = run_until(
            lambda: bool(shown_at) and window.track_view.analysis is not None, 600
        )
        result["season_open_first_recording_s"] = round(
            time.perf_counter() - started if first_shown else float("nan"), 3
        )
        run_until(lambda: len(session.analyses) >= n_files and not window.analysis_runs.busy, 1800)
        run_until(lambda: False, 0.6)  # the last throttled refresh
        result["season_all_loaded_s"] = round(time.perf_counter() - started, 2)
        result["season_loaded_recordings"] = len(session.analyses)
        detections = session.detections
        result["season_events"] = len(detections.events) if detections is not None else 0
        result["season_decisions"] = len(session.decisions)

        def repaint() -> None:
            window.spectrogram_view.viewport().repaint()
            window.detections_panel.table.viewport().repaint()
            window.recordings_panel.table.viewport().repaint()

        thresholds = window.thresholds
        labels = [x for x in session.labels if thresholds.is_visible(x) and x != "Background"]
        timings = []
        refreshed: list[int] = []
        session.detections_changed.connect(lambda: refreshed.append(1))
        for k in range(repeats):
            label = labels[k % len(labels)]
            # Always a change (the same value again changes nothing, and would time nothing).
            value = round(thresholds.threshold(label) + (0.05 if k % 2 == 0 else -0.05), 2)

            def change(label: str = label, value: float = value) -> None:
                thresholds.set_threshold(label, value)
                repaint()

            before = len(refreshed)
            timings.append(_timed_ms(change))
            if len(refreshed) == before:
                raise RuntimeError(f"threshold change {label} -> {value} found no events again")
        result["season_threshold_update_ms"] = round(statistics.median(timings), 1)
        result["season_threshold_update_max_ms"] = round(max(timings), 1)

        recordings_panel, detections_panel = window.recordings_panel, window.detections_panel

        def act(action: Callable[[], object]) -> Callable[[], None]:
            def run() -> None:
                action()
                repaint()

            return run

        code = "Pippip"
        label_row = max(1, detections_panel.species_box.findText("Pipistrellus pipistrellus"))
        filters = {
            "season_filter_recordings_species_ms": act(
                lambda: recordings_panel.species_filter.setText(code)
            ),
            "season_filter_recordings_species_clear_ms": act(
                lambda: recordings_panel.species_filter.setText("")
            ),
            "season_filter_recordings_review_ms": act(
                lambda: recordings_panel.review_filter.setCurrentText("unreviewed")
            ),
            "season_filter_recordings_review_clear_ms": act(
                lambda: recordings_panel.review_filter.setCurrentText("all")
            ),
            "season_filter_detections_species_ms": act(
                lambda: detections_panel.species_box.setCurrentIndex(label_row)
            ),
            "season_filter_detections_species_clear_ms": act(
                lambda: detections_panel.species_box.setCurrentIndex(0)
            ),
            "season_filter_detections_unreviewed_ms": act(
                lambda: detections_panel.unreviewed_box.setChecked(True)
            ),
            "season_filter_detections_unreviewed_clear_ms": act(
                lambda: detections_panel.unreviewed_box.setChecked(False)
            ),
        }
        for key, action in filters.items():
            result[key] = round(_timed_ms(action), 1)
        result["season_filter_ms"] = max(result[k] for k in filters)
        descending = Qt.SortOrder.DescendingOrder
        ascending = Qt.SortOrder.AscendingOrder
        sorts = {
            "season_sort_recordings_species_ms": act(
                lambda: recordings_panel.table.sortByColumn(COL_SPECIES, descending)
            ),
            "season_sort_recordings_name_ms": act(
                lambda: recordings_panel.table.sortByColumn(0, ascending)
            ),
            "season_sort_detections_max_p_ms": act(
                lambda: detections_panel.table.sortByColumn(4, descending)
            ),
            "season_sort_detections_start_ms": act(
                lambda: detections_panel.table.sortByColumn(2, ascending)
            ),
        }
        for key, action in sorts.items():
            result[key] = round(_timed_ms(action), 1)
        result["season_sort_ms"] = max(result[k] for k in sorts)
        steps = [
            _timed_ms(act(window.review_actions.next_recording_to_review)) for _ in range(repeats)
        ]
        result["season_next_unreviewed_ms"] = round(statistics.median(steps), 1)
        result["season_peak_rss_mb"] = round(_rss_mb("VmHWM"), 1)
        window.close()
        app.processEvents()
    return result


# -- measuring: export and appends ------------------------------------------------------------


def _command_peak_mb(argv: Sequence[str]) -> tuple[int, float, float]:
    """Run ``bsgbat-gui ARGV`` in a child process: its exit code, seconds and peak RSS (MB)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bsgbat_gui", *argv],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    # ru_maxrss: KiB on Linux, bytes on macOS.
    peak = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20
    return proc.returncode, seconds, peak


def measure_export(store: Path, out: Path) -> dict[str, Any]:
    """``bsgbat-gui export STORE --scope verified`` (CSV) as a user runs it: its time and its
    peak RSS above that of the same command refusing a missing store (the same imports, no
    work)."""
    code, _, baseline = _command_peak_mb(
        ["export", str(store.with_name("no-such-store.sqlite")), "--out", str(out)]
    )
    code, seconds, peak = _command_peak_mb(
        ["export", str(store), "--out", str(out), "--scope", "verified", "--overwrite"]
    )
    if code != 0:
        raise RuntimeError(f"export exited {code}")
    with out.open(encoding="utf-8") as f:
        rows = sum(1 for _ in f) - 1
    return {
        "season_export_verified_s": round(seconds, 2),
        "season_export_peak_extra_rss_mb": round(peak - baseline, 1),
        "season_export_peak_rss_mb": round(peak, 1),
        "season_export_rows": rows,
    }


def _append(
    store_path: Path, folder: Path, models: Path, n_files: int
) -> tuple[float, list[float]]:
    """Append ``n_files`` new recordings' analyses to the store as ``analyze --project`` does
    (header probed, cache looked up, analysis kept with the file's SHA-256); returns the ms to
    open the store and identify the model set, and each file's ms in the store (its lookup and
    its committed save: what could grow with the store)."""
    from bsgbat_gui.core.analysis.analyse import RecordingAnalysis, windows_for
    from bsgbat_gui.core.audio.recording import probe_recording
    from bsgbat_gui.core.files import sha256_file
    from bsgbat_gui.core.models.locate import read_model_set
    from bsgbat_gui.core.review.analysis_cache import StoreCache
    from bsgbat_gui.core.review.store import ReviewStore

    model_set = read_model_set(models)
    rng = np.random.default_rng(1)
    background = model_set.labels.index("Background")
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n_files):
        path = folder / f"new-{k:05d}.wav"
        write_sparse_wav(path, round(DURATIONS_S[k % len(DURATIONS_S)] * SAMPLE_RATE_HZ))
        paths.append(path)
    started = time.perf_counter()
    store = ReviewStore.open(store_path, exclusive=False)
    cache = StoreCache(store, model_set)
    _ = cache.model_set_id
    opened_ms = (time.perf_counter() - started) * 1000
    per_file = []
    try:
        for path in paths:
            # The file's own work (its header, its content hash; inference) does not depend
            # on the store: not timed.
            info = probe_recording(path)
            content_sha256 = sha256_file(path)
            windows = windows_for(info)
            logits = season_logits(rng, len(windows), len(model_set.labels), background)
            analysis: RecordingAnalysis = RecordingAnalysis(
                info, tuple(windows), logits, model_set.labels, model_set.model_names
            )
            started = time.perf_counter()
            if cache.lookup(info) is not None:
                raise RuntimeError(f"{path}: unexpectedly cached")
            store.save_analysis(analysis, cache.model_set_id, content_sha256)
            per_file.append((time.perf_counter() - started) * 1000)
    finally:
        store.close()
    if cache.problem:
        raise RuntimeError(cache.problem)
    return opened_ms, per_file


def measure_append(survey: Path, store: Path, models: Path, n_files: int) -> dict[str, Any]:
    """:func:`_append` to an empty store and to the season's, alternating in four rounds (a
    commit is an fsync: the disk's mood must not decide the comparison); medians per file."""
    from bsgbat_gui.core.review.locations import STORE_FILENAME

    rounds = 4
    per_round = max(2, n_files // rounds)
    empty_ms: list[float] = []
    season_ms: list[float] = []
    opens: dict[str, list[float]] = {"empty": [], "season": []}
    with tempfile.TemporaryDirectory(prefix="bsgbat-season-empty-") as tmp:
        empty = Path(tmp)
        _append(empty / STORE_FILENAME, empty / "warm", models, 2)  # imports, schema
        for k in range(rounds):
            opened, times = _append(empty / STORE_FILENAME, empty / f"new-{k}", models, per_round)
            opens["empty"].append(opened)
            empty_ms += times
            opened, times = _append(
                store, survey / f"appended-{os.getpid()}-{k}", models, per_round
            )
            opens["season"].append(opened)
            season_ms += times
    season, empty_median = statistics.median(season_ms), statistics.median(empty_ms)
    return {
        "season_analyze_append_ms_per_file": round(season, 2),
        "season_analyze_append_empty_ms_per_file": round(empty_median, 2),
        "season_analyze_append_slowdown": round(season / empty_median, 2),
        "season_analyze_open_store_ms": round(statistics.median(opens["season"]), 1),
        "season_analyze_open_empty_store_ms": round(statistics.median(opens["empty"]), 1),
        "season_analyze_append_files": rounds * per_round,
    }


# -- the whole benchmark ------------------------------------------------------------------------


def _in_subprocess(args: Sequence[str], timeout_s: float) -> dict[str, Any]:
    return run_measurement(
        "bsgbat_gui.benchmark.season", args, timeout_s=timeout_s, what=f"season {args[0]}"
    )


def measure_season(
    work: Path,
    n_recordings: int,
    log: Callable[[str], None],
    *,
    append_files: int = 200,
) -> dict[str, Any]:
    """Build the season under ``work`` and measure every key, each in a fresh process."""
    log(f"season: writing {n_recordings} recordings (sparse WAVs) and their store…")
    built = build_season(work / "season", n_recordings, log=log)
    log(f"  {built.build_s:.0f} s, {built.disk_mb:.0f} MB on disk ({built.apparent_gb:.1f} GB "
        f"apparent), {built.decisions} decisions")  # fmt: skip
    results: dict[str, Any] = {
        "season_recordings": built.recordings,
        "season_build_s": round(built.build_s, 1),
        "season_disk_mb": round(built.disk_mb, 1),
        "season_store_mb": round(built.store.stat().st_size / 1e6, 1),
    }
    scale = max(1.0, n_recordings / 10_000)
    log("season: the window opens the survey (offscreen, fresh process)…")
    results.update(
        _in_subprocess(["window", str(built.survey), str(built.models)], 600 + 120 * scale)
    )
    log("season: export of the verified detections (fresh process)…")
    out = work / "verified.csv"
    results.update(_in_subprocess(["export", str(built.store), str(out)], 300 + 60 * scale))
    out.unlink(missing_ok=True)
    log(f"season: {append_files} files appended to an empty store and to the season's…")
    results.update(
        _in_subprocess(
            ["append", str(built.survey), str(built.store), str(built.models), str(append_files)],
            300 + 30 * scale,
        )
    )
    return results


def main(argv: list[str]) -> int:
    what = argv[0]
    if what == "window":
        result = measure_window(Path(argv[1]), Path(argv[2]))
    elif what == "export":
        result = measure_export(Path(argv[1]), Path(argv[2]))
    elif what == "append":
        result = measure_append(Path(argv[1]), Path(argv[2]), Path(argv[3]), int(argv[4]))
    elif what == "build":  # for a look at the store: build only, keep it
        built = build_season(Path(argv[1]), int(argv[2]), log=print)
        result = {k: str(v) for k, v in dataclasses.asdict(built).items()}
    else:
        raise SystemExit(f"unknown measurement {what!r}")
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
