"""``bsgbat-gui analyze``: run the ensemble over recordings, headless."""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import IO, TYPE_CHECKING

from bsgbat_gui.commands.arguments import positive_float, positive_int
from bsgbat_gui.commands.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE
from bsgbat_gui.commands.progress import ProgressBar
from bsgbat_gui.core.analysis.analyse import (
    DEFAULT_BATCH_SIZE,
    AnalysisEvent,
    RecordingAnalysed,
    RecordingFailed,
    RecordingStarted,
    SegmentsAnalysed,
)
from bsgbat_gui.core.analysis.cluster import (
    DEFAULT_FILES_PER_TASK,
    ClusterError,
    ClusterSpec,
    RemoteRecordingAnalysed,
    analyse_on_cluster,
    connect,
    require_distributed,
)
from bsgbat_gui.core.analysis.detections import DetectionEvents, detection_events
from bsgbat_gui.core.analysis.pipeline import analyse_recordings
from bsgbat_gui.core.analysis.reproducible import reproducible_numerics
from bsgbat_gui.core.analysis.shards import Shard, parse_shard, select_shard
from bsgbat_gui.core.analysis.thresholds import PresetError, ThresholdSettings, load_preset
from bsgbat_gui.core.audio.recording import display_path, find_recordings
from bsgbat_gui.core.export.analysis_csv import DetectionsCsvWriter, SegmentsCsvWriter
from bsgbat_gui.core.files import AtomicTextFile
from bsgbat_gui.core.models.ensemble import COMBINE_METHODS, DEFAULT_PROVIDER, Ensemble
from bsgbat_gui.core.models.locate import ModelSetError, locate_model_set
from bsgbat_gui.core.review.analysis_cache import StoreCache
from bsgbat_gui.core.review.connection import StoreError
from bsgbat_gui.core.review.store import ReviewStore

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

log = logging.getLogger(__name__)


def shard_arg(text: str) -> Shard:
    try:
        return parse_shard(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "analyze",
        help="run the BSG-BAT ensemble over recordings (files or folders)",
        description="Run the BSG-BAT ensemble over recordings and write per-segment probabilities.",
    )
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="recordings or folders")
    p.add_argument("--models", type=Path, metavar="DIR", help="model set folder")
    p.add_argument(
        "--combine",
        choices=COMBINE_METHODS,
        help="how the models' logits are combined (default: the preset's, else mean)",
    )
    p.add_argument(
        "--thresholds",
        type=Path,
        metavar="PRESET.json",
        help="per-species thresholds and combine method saved from the window (default: 0.5)",
    )
    p.add_argument(
        "--project",
        type=Path,
        metavar="STORE.sqlite",
        help="review store to fill (and to read earlier analyses from): analyse overnight, "
        "review in the window the next day",
    )
    p.add_argument(
        "--segments",
        type=Path,
        metavar="OUT.csv",
        help="write one row per model window with every label's probability",
    )
    p.add_argument(
        "--detections",
        type=Path,
        metavar="OUT.csv",
        help="write one row per detection event (consecutive segments at or above threshold)",
    )
    p.add_argument(
        "--time-expansion",
        type=positive_float,
        metavar="N",
        help="time-expansion factor of every input (overrides the files' metadata)",
    )
    p.add_argument(
        "--provider",
        default=DEFAULT_PROVIDER,
        metavar="NAME",
        help=f"ONNX Runtime execution provider (default: {DEFAULT_PROVIDER})",
    )
    p.add_argument(
        "--shard",
        type=shard_arg,
        metavar="I/N",
        help="analyse only share I of N (1 <= I <= N) of the recordings, chosen by a hash of each "
        "path relative to the folder given: for job arrays, each job with its own --project "
        "store, joined afterwards with merge-stores",
    )
    where = p.add_argument_group(
        "on a Dask cluster",
        'needs the cluster extra (pip install "bsgbat-gui[cluster]"), and the recordings and '
        "the models on a filesystem every worker shares, at the same paths",
    ).add_mutually_exclusive_group()
    where.add_argument(
        "--cluster",
        metavar="tcp://HOST:8786",
        help="use the running Dask scheduler at this address",
    )
    where.add_argument(
        "--local-cluster",
        type=positive_int,
        metavar="N",
        help="start N worker processes on this machine (a Dask LocalCluster)",
    )
    where.add_argument(
        "--cluster-config",
        type=Path,
        metavar="FILE.yaml",
        help="start a batch-queue cluster (SLURM, PBS, SGE, LSF, HTCondor) with dask-jobqueue, "
        "as the file says: 'cluster: slurm', 'jobs: N' and the cluster's options "
        "(cores, memory, walltime, queue, account, …)",
    )
    p.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, metavar="N", help=argparse.SUPPRESS
    )
    p.add_argument(
        "--files-per-task",
        type=positive_int,
        default=DEFAULT_FILES_PER_TASK,
        metavar="N",
        help=argparse.SUPPRESS,
    )
    p.set_defaults(run=run)


def _summary_line(path_label: str, labels: tuple[str, ...], events: DetectionEvents) -> str:
    """``file: Species max-p, …`` for the species with at least one event, most probable first."""
    peaks: dict[str, float] = {}
    for label_index, p in zip(events.label_index, events.max_prob, strict=True):
        label = labels[int(label_index)]
        peaks[label] = max(peaks.get(label, 0.0), float(p))
    if not peaks:
        return f"{path_label}: no species at or above its threshold"
    found = sorted(((p, label) for label, p in peaks.items()), reverse=True)
    return f"{path_label}: " + ", ".join(f"{label} {p:.2f}" for p, label in found)


def _output_folder_problem(option: str, path: Path | None) -> str | None:
    if path is not None and not path.parent.resolve().is_dir():
        return f"{path.parent}: folder for {option} does not exist"
    return None


def _threshold_settings(
    args: argparse.Namespace, labels: tuple[str, ...], stderr: IO[str]
) -> ThresholdSettings:
    """The thresholds and combine method to use: the preset's (its problems written as warnings),
    with an explicit ``--combine`` winning. Raises :class:`PresetError` for an unusable preset."""
    settings = ThresholdSettings()
    if args.thresholds is not None:
        loaded = load_preset(args.thresholds, labels)  # PresetError handled by the caller
        for problem in loaded.problems:
            stderr.write(f"warning: {args.thresholds}: {problem}\n")
        settings = loaded.settings
    combine = args.combine or settings.combine
    return ThresholdSettings(settings.thresholds, combine)


def _cluster_spec(args: argparse.Namespace) -> ClusterSpec | None:
    if args.cluster is not None:
        return ClusterSpec(address=args.cluster)
    if args.local_cluster is not None:
        return ClusterSpec(local_workers=args.local_cluster)
    if args.cluster_config is not None:
        return ClusterSpec(config_file=args.cluster_config)
    return None


def _keep_remote(cache: StoreCache, event: RemoteRecordingAnalysed) -> None:
    """Write a worker's analysis to the store, with the content SHA-256 the worker read (the
    client does not read the audio); store errors reported once, as the local cache does."""
    if cache.store.read_only or event.identity is None:
        return
    try:
        cache.store.save_analysis(event.analysis, cache.model_set_id, event.identity.sha256)
    except (sqlite3.Error, OSError) as exc:
        log.warning("%s: cannot save to the analysis cache: %s", cache.store.path, exc)
        cache.problem = f"cannot save to the analysis cache: {exc}"


class _InFileOrder:
    """Analyses handed back in file order, whatever order they complete in (a cluster's): the
    CSVs and the summary are the local run's, row for row."""

    def __init__(self) -> None:
        self._next = 0
        self._waiting: dict[int, RecordingAnalysed | None] = {}

    def add(self, index: int, event: RecordingAnalysed | None) -> list[RecordingAnalysed]:
        self._waiting[index] = event
        ready: list[RecordingAnalysed] = []
        while self._next in self._waiting:
            done = self._waiting.pop(self._next)
            self._next += 1
            if done is not None:
                ready.append(done)
        return ready

    def rest(self) -> list[RecordingAnalysed]:
        return [e for _, e in sorted(self._waiting.items()) if e is not None]


def run(
    args: argparse.Namespace,
    *,
    stdout: IO[str] | None = None,
    stderr: IO[str] | None = None,
    worker_hook: Callable[[Path], None] | None = None,
) -> int:
    """``worker_hook``: called on a cluster worker before each recording (tests only)."""
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    spec = _cluster_spec(args)
    if spec is not None:
        try:
            require_distributed(spec.option)
        except ClusterError as exc:
            stderr.write(f"error: {exc}\n")
            return EXIT_USAGE
    recordings, missing = find_recordings(list(args.paths))
    for line in missing:
        stderr.write(f"error: {line}\n")
    if args.shard is not None:
        recordings = select_shard(recordings, list(args.paths), args.shard)
        if not recordings and not missing:
            # Still a store, empty: a job array's merge-stores names every shard's.
            if args.project is not None:
                try:
                    ReviewStore.open(args.project, exclusive=False).close()
                except StoreError as exc:
                    stderr.write(f"error: {exc}\n")
                    return EXIT_USAGE
            stderr.write(f"shard {args.shard}: no recordings in this share, nothing to do\n")
            return EXIT_OK
    if not recordings:
        stderr.write("error: no recordings (.wav, .flac) found in the given paths\n")
        return EXIT_USAGE
    ensemble: Ensemble | None = None
    try:
        model_set = locate_model_set(args.models)
        if spec is None:  # on a cluster the workers load the models, not the client
            # The numbers of a cluster's run, to the last bit (see core/analysis/reproducible).
            ensemble = Ensemble(model_set, provider=args.provider)
    except ModelSetError as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    labels = model_set.labels
    if model_set.incomplete:
        stderr.write(f"warning: {model_set.incomplete}\n")
    for option, path in (("--segments", args.segments), ("--detections", args.detections)):
        problem = _output_folder_problem(option, path)
        if problem is not None:
            stderr.write(f"error: {problem}\n")
            return EXIT_USAGE
    try:
        settings = _threshold_settings(args, labels, stderr)
    except PresetError as exc:
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    thresholds = settings.array_for(labels)
    cache: StoreCache | None = None
    if args.project is not None:
        try:
            store = ReviewStore.open(args.project, exclusive=False)
        except StoreError as exc:
            stderr.write(f"error: {exc}\n")
            return EXIT_USAGE
        cache = StoreCache(store, model_set)

    failed = len(missing)
    from_cache = 0
    finished = 0
    progress = ProgressBar(len(recordings), stream=stderr)
    in_order = _InFileOrder()
    try:
        with ExitStack() as stack:
            if cache is not None:
                stack.callback(cache.store.close)
            segments_writer = detections_writer = None
            if args.segments is not None:
                out = stack.enter_context(AtomicTextFile(args.segments))
                segments_writer = SegmentsCsvWriter(out, labels)
            if args.detections is not None:
                out = stack.enter_context(AtomicTextFile(args.detections))
                detections_writer = DetectionsCsvWriter(out)

            def write(event: RecordingAnalysed) -> None:
                analysis = event.analysis
                file_label = str(analysis.info.path)
                probabilities = analysis.probabilities(settings.combine)
                events = detection_events(
                    probabilities, analysis.windows, thresholds, analysis.labels
                )
                if segments_writer is not None:
                    segments_writer.write_recording(file_label, analysis.windows, probabilities)
                if detections_writer is not None:
                    detections_writer.write_recording(
                        file_label, events, analysis.labels, thresholds
                    )
                if segments_writer is None and detections_writer is None:
                    progress.clear()
                    line = _summary_line(display_path(file_label), analysis.labels, events)
                    stdout.write(line + "\n")

            events: Iterator[AnalysisEvent]
            stack.enter_context(reproducible_numerics())
            if spec is None:
                assert ensemble is not None
                events = analyse_recordings(
                    recordings,
                    ensemble,
                    time_expansion=args.time_expansion,
                    batch_size=args.batch_size,
                    cache=cache,
                )
            else:
                client = stack.enter_context(connect(spec))
                events = analyse_on_cluster(
                    recordings,
                    client,
                    model_set,
                    provider=args.provider,
                    time_expansion=args.time_expansion,
                    batch_size=args.batch_size,
                    files_per_task=args.files_per_task,
                    cache=cache,
                    before_each=worker_hook,
                )
            for event in events:
                if isinstance(event, RecordingStarted):
                    for warning in event.info.warnings:
                        progress.message(f"warning: {display_path(event.path)}: {warning}")
                elif isinstance(event, SegmentsAnalysed):
                    progress.update(
                        event.index + event.done / event.total, display_path(event.path.name)
                    )
                elif isinstance(event, RecordingFailed):
                    failed += 1
                    finished += 1
                    progress.message(f"error: {display_path(event.path)}: {event.reason}")
                    for ready in in_order.add(event.index, None):
                        write(ready)
                elif isinstance(event, RecordingAnalysed):
                    finished += 1
                    from_cache += event.from_cache
                    if isinstance(event, RemoteRecordingAnalysed) and cache is not None:
                        _keep_remote(cache, event)
                    if spec is not None:
                        progress.update(finished, display_path(event.analysis.info.path.name))
                    for ready in in_order.add(event.index, event):
                        write(ready)
            for ready in in_order.rest():
                write(ready)
            progress.clear()
    except KeyboardInterrupt:
        progress.clear()
        stderr.write("interrupted: nothing was written\n")
        return EXIT_INTERRUPTED
    except ClusterError as exc:
        progress.clear()
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except ModelSetError as exc:  # a worker cannot load the model set
        progress.clear()
        stderr.write(f"error: {exc}\n")
        return EXIT_USAGE
    except OSError as exc:
        progress.clear()
        outputs = " or ".join(str(p) for p in (args.segments, args.detections) if p is not None)
        stderr.write(f"error: cannot write {outputs}: {exc.strerror or exc}\n")
        return EXIT_SOME_FAILED
    analysed = len(recordings) + len(missing) - failed
    if cache is not None:
        if cache.problem:
            stderr.write(f"warning: {args.project}: {cache.problem}\n")
        stderr.write(f"{analysed} analysed ({from_cache} from {args.project}), {failed} failed\n")
    else:
        stderr.write(f"{analysed} analysed, {failed} failed\n")
    return EXIT_SOME_FAILED if failed else EXIT_OK
