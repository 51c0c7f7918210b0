"""Analysing recordings on a Dask cluster: a running scheduler, a ``LocalCluster`` of worker
processes on this machine, or a batch-queue cluster (SLURM, PBS, …) built by ``dask-jobqueue``.

``dask.distributed`` is an optional extra (``pip install "bsgbat-gui[cluster]"``), imported only
when a cluster is asked for: the app works without it, and asking for a cluster without it is one
clear :class:`ClusterError`.

How the work is split:

* every worker loads the model set **once**, when it starts or joins (a worker plugin,
  :class:`~bsgbat_gui.core.analysis.cluster_worker.EnsemblePlugin`), with ONNX Runtime's threads
  set to the worker's;
* a task is a batch of recordings **given by path** — the client and the workers share a
  filesystem — and returns per recording its identity (size, modification time, SHA-256) and its
  per-model logits, never audio;
* the client alone reads and writes the review store: it skips what the store already has (the
  cache rule of the local ``analyze``) and is handed each result as it arrives
  (:func:`analyse_on_cluster` yields the local pipeline's events), so a run that is killed or
  loses workers keeps everything already returned, and running it again resumes.

A worker that dies takes its tasks with it; Dask runs them again elsewhere. A task whose workers
keep dying (``distributed.scheduler.allowed-failures``, 3 by default) ends in ``KilledWorker``:
its recordings are then tried one per task, so that only the recording that kills workers is
reported (``killed the worker N times, skipped``) and the others are analysed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bsgbat_gui.core.analysis.analyse import (
    DEFAULT_BATCH_SIZE,
    AnalysisCache,
    AnalysisEvent,
    RecordingAnalysed,
    RecordingAnalysis,
    RecordingFailed,
    RecordingStarted,
    windows_for,
)
from bsgbat_gui.core.audio.recording import RecordingError, RecordingInfo, probe_recording
from bsgbat_gui.core.models.ensemble import DEFAULT_PROVIDER, FloatArray

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

    from distributed import Client, Future

    from bsgbat_gui.core.models.locate import ModelSet

log = logging.getLogger(__name__)

EXTRA_HINT = 'pip install "bsgbat-gui[cluster]"'
PLUGIN_NAME = "bsgbat-ensemble"
DEFAULT_FILES_PER_TASK = 4  # small: a killed run loses at most the tasks still running
CHANGED = "changed while it was being analysed; analyse it again"
# The batch queues dask-jobqueue drives, by the name a cluster config file gives them.
JOBQUEUE_CLUSTERS = {
    "slurm": "SLURMCluster",
    "pbs": "PBSCluster",
    "sge": "SGECluster",
    "lsf": "LSFCluster",
    "oar": "OARCluster",
    "htcondor": "HTCondorCluster",
}


class ClusterError(Exception):
    """A cluster cannot be used: the extra is not installed, the scheduler cannot be reached, a
    cluster config file is unusable. The message is one line meant for the user.
    """


@dataclass(frozen=True)
class RecordingIdentity:
    """A recording file as a worker read it: what the review store's cache is keyed by."""

    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class RemoteOutcome:
    """What a task returns for one recording: its logits and identity, or why it failed."""

    index: int
    path: Path
    identity: RecordingIdentity | None = None
    logits: FloatArray | None = None  # [n_models, n_segments, n_classes]
    labels: tuple[str, ...] = ()
    model_names: tuple[str, ...] = ()
    error: str = ""


@dataclass(frozen=True)
class RemoteRecordingAnalysed(RecordingAnalysed):
    """A recording analysed on a worker, with the identity of the file the worker read (the
    content SHA-256 the store keeps with the analysis).
    """

    identity: RecordingIdentity | None = None


def require_distributed(option: str) -> None:
    """Check that the ``cluster`` extra is installed, else raise :class:`ClusterError`."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ClusterError(f"{option} needs the cluster extra: {EXTRA_HINT}") from None


@dataclass(frozen=True)
class ClusterSpec:
    """Which cluster to use: a scheduler's address, a number of local worker processes, or a
    cluster config file (exactly one of them).
    """

    address: str | None = None
    local_workers: int | None = None
    config_file: Path | None = None
    threads_per_worker: int | None = None  # local workers: default, the cores shared out

    @property
    def option(self) -> str:
        """The command-line option this spec came from (for messages)."""
        if self.address is not None:
            return "--cluster"
        if self.local_workers is not None:
            return "--local-cluster"
        return "--cluster-config"


def local_cluster(n_workers: int, threads_per_worker: int | None = None, **kwargs: Any) -> Any:
    """A ``LocalCluster`` of ``n_workers`` worker processes on this machine, reachable on the
    loopback interface only, without a dashboard; ``kwargs`` override its options.
    """
    from distributed import LocalCluster

    if threads_per_worker is None:
        threads_per_worker = max(1, (os.cpu_count() or 1) // max(n_workers, 1))
    options: dict[str, Any] = {
        "n_workers": n_workers,
        "threads_per_worker": threads_per_worker,
        "processes": True,
        "host": "127.0.0.1",
        "dashboard_address": None,
        # The scheduler's HTTP server (health checks) runs even without a dashboard, on port
        # 8787 unless told otherwise: a free loopback port instead, so that two runs never meet.
        "scheduler_kwargs": {"dashboard_address": "127.0.0.1:0"},
    }
    options.update(kwargs)
    import dask

    # A worker gets no more tasks than it has threads (Dask's default sends a few more, queued
    # there): when a recording kills its worker, the tasks queued behind it would count that
    # death too, and a good recording queued twice behind a bad one would be reported as one.
    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
        return LocalCluster(**options)


def read_cluster_config(path: Path) -> tuple[str, int, dict[str, Any]]:
    """``(kind, jobs, options)`` from a cluster config file (YAML).

    ``cluster:`` is ``slurm``, ``pbs``, ``sge``, ``lsf``, ``oar``, ``htcondor`` (a dask-jobqueue
    cluster) or ``local``; ``jobs:`` how many batch jobs (or local workers) to start; every other
    key is passed to the cluster's constructor (``cores``, ``memory``, ``walltime``, ``queue``,
    ``account``, ``job_extra_directives``, …).
    """
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ClusterError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ClusterError(f"{path}: not a YAML file ({str(exc).splitlines()[0]})") from None
    if not isinstance(loaded, dict):
        raise ClusterError(f"{path}: expected keys such as 'cluster: slurm', 'jobs: 4'")
    options = dict(loaded)
    kind = str(options.pop("cluster", "slurm")).lower()
    if kind != "local" and kind not in JOBQUEUE_CLUSTERS:
        known = ", ".join([*JOBQUEUE_CLUSTERS, "local"])
        raise ClusterError(f"{path}: unknown cluster {kind!r} (one of: {known})")
    jobs = options.pop("jobs", 1)
    if not isinstance(jobs, int) or jobs < 1:
        raise ClusterError(f"{path}: 'jobs' must be a whole number of at least 1")
    return kind, jobs, options


def _config_cluster(path: Path) -> Any:
    kind, jobs, options = read_cluster_config(path)
    if kind == "local":
        return local_cluster(jobs, **options)
    try:
        import dask_jobqueue
    except ImportError:
        raise ClusterError(f"--cluster-config needs the cluster extra: {EXTRA_HINT}") from None
    cls = getattr(dask_jobqueue, JOBQUEUE_CLUSTERS[kind])
    try:
        cluster = cls(**options)
    except (TypeError, ValueError) as exc:
        raise ClusterError(f"{path}: {exc}") from None
    cluster.scale(jobs=jobs)
    return cluster


@contextlib.contextmanager
def connect(spec: ClusterSpec) -> Iterator[Client]:
    """A Dask client of the cluster ``spec`` names; a cluster started here is closed on exit.

    Raises
    ------
    ClusterError
        When the extra is missing, the scheduler cannot be reached or the config is unusable.
    """
    require_distributed(spec.option)
    from distributed import Client

    with contextlib.ExitStack() as stack:
        try:
            if spec.address is not None:
                client = Client(spec.address)  # waits distributed.comm.timeouts.connect (30 s)
            else:
                if spec.local_workers is not None:
                    cluster = local_cluster(spec.local_workers, spec.threads_per_worker)
                elif spec.config_file is not None:
                    cluster = _config_cluster(spec.config_file)
                else:
                    raise ClusterError("no cluster given")
                stack.callback(cluster.close)
                client = Client(cluster)
        except (OSError, TimeoutError) as exc:
            where = spec.address or "the cluster"
            raise ClusterError(f"cannot connect to {where}: {exc}") from None
        stack.callback(client.close)
        yield client


def register_models(
    client: Client,
    model_set: ModelSet,
    *,
    provider: str = DEFAULT_PROVIDER,
    before_each: Callable[[Path], None] | None = None,
) -> None:
    """Have every worker (those running and those yet to join) load ``model_set`` once.

    A worker that cannot load it raises :class:`ModelSetError` here.
    """
    from bsgbat_gui.core.analysis.cluster_worker import EnsemblePlugin

    # Absolute paths: a worker runs in another folder (or on another machine).
    model_set = dataclasses.replace(
        model_set,
        folder=model_set.folder.absolute(),
        model_paths=tuple(p.absolute() for p in model_set.model_paths),
    )
    plugin = EnsemblePlugin(model_set, provider=provider, before_each=before_each)
    client.register_plugin(plugin, name=PLUGIN_NAME)


def _is_killed_worker(exc: BaseException) -> bool:
    from distributed import KilledWorker

    return isinstance(exc, KilledWorker)


def _deaths(exc: BaseException) -> int:
    """How many workers a task killed, from Dask's ``KilledWorker``."""
    allowed = getattr(exc, "allowed_failures", None)
    return allowed + 1 if isinstance(allowed, int) else 1


def _outcome_event(outcome: RemoteOutcome, info: RecordingInfo) -> AnalysisEvent:
    """The local pipeline's event for a task's outcome for one recording."""
    if outcome.error:
        return RecordingFailed(outcome.index, info.path, outcome.error)
    windows = windows_for(info)
    logits, identity = outcome.logits, outcome.identity
    if logits is None or identity is None or logits.ndim != 3 or logits.shape[1] != len(windows):
        return RecordingFailed(outcome.index, info.path, "internal error: a worker's result does "
                               "not fit the recording")  # fmt: skip
    try:
        stat = info.path.stat()
    except OSError as exc:
        return RecordingFailed(outcome.index, info.path, f"cannot be read: {exc}")
    if (stat.st_size, stat.st_mtime_ns) != (identity.size, identity.mtime_ns):
        return RecordingFailed(outcome.index, info.path, CHANGED)
    analysis = RecordingAnalysis(
        info=info,
        windows=tuple(windows),
        per_model_logits=logits,
        labels=outcome.labels,
        model_names=outcome.model_names,
    )
    return RemoteRecordingAnalysed(outcome.index, analysis, identity=identity)


class _Tasks:
    """The tasks in flight: submitted in batches, handed back as they complete."""

    def __init__(
        self, client: Client, time_expansion: float | None, batch_size: int
    ) -> None:  # fmt: skip
        from distributed import as_completed

        from bsgbat_gui.core.analysis.cluster_worker import analyse_task

        self.client = client
        self.time_expansion, self.batch_size = time_expansion, batch_size
        self.infos: dict[int, RecordingInfo] = {}
        self.pending: dict[Future[Any], list[int]] = {}
        self.completed = as_completed()
        self._task = analyse_task

    def submit(self, indices: list[int]) -> None:
        items = [(index, self.infos[index].path.absolute()) for index in indices]
        future = self.client.submit(
            self._task, items, self.time_expansion, self.batch_size,
            key=f"bsgbat-analyse-{indices[0]}-{uuid.uuid4().hex}", pure=False, retries=0,
        )  # fmt: skip
        self.pending[future] = indices
        self.completed.add(future)

    def finished(self, *, block: bool) -> Iterator[AnalysisEvent]:
        for future in self.completed.next_batch(block=block):
            yield from self._result(future)

    def _result(self, future: Future[Any]) -> Iterator[AnalysisEvent]:
        indices = self.pending.pop(future)
        try:
            outcomes: list[RemoteOutcome] = future.result()
        except Exception as exc:  # noqa: BLE001 - a task's failure is reported per recording
            if _is_killed_worker(exc) and len(indices) > 1:
                for index in indices:  # find the one that kills workers; analyse the others
                    self.submit([index])
                return
            if _is_killed_worker(exc):
                reason = f"killed the worker {_deaths(exc)} times, skipped"
            else:
                reason = f"internal error on the cluster: {type(exc).__name__}: {exc}"
            for index in indices:
                yield RecordingFailed(index, self.infos.pop(index).path, reason)
            return
        finally:
            future.release()
        for outcome in outcomes:
            yield _outcome_event(outcome, self.infos.pop(outcome.index))

    def cancel(self) -> None:
        if self.pending:
            with contextlib.suppress(Exception):
                self.client.cancel(list(self.pending))
            self.pending.clear()


def analyse_on_cluster(
    paths: Sequence[Path],
    client: Client,
    model_set: ModelSet,
    *,
    provider: str = DEFAULT_PROVIDER,
    time_expansion: float | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    files_per_task: int = DEFAULT_FILES_PER_TASK,
    cache: AnalysisCache | None = None,
    before_each: Callable[[Path], None] | None = None,
) -> Iterator[AnalysisEvent]:
    """Analyse recordings on the cluster of ``client``, yielding the local pipeline's events
    (:func:`~bsgbat_gui.core.analysis.pipeline.analyse_recordings`) as results arrive — not in
    file order — without ``SegmentsAnalysed`` (progress is per recording).

    The client probes each recording (a bad header is a ``RecordingFailed`` at once) and looks
    it up in ``cache``; the others go to the workers, ``files_per_task`` per task. A newly
    analysed recording is a :class:`RemoteRecordingAnalysed`, with the identity of the file the
    worker read: the caller keeps it (in a review store) when it is yielded. ``cache.keep`` is
    not called. Raises :class:`ModelSetError` when the workers cannot load the model set.
    """
    register_models(client, model_set, provider=provider, before_each=before_each)
    tasks = _Tasks(client, time_expansion, batch_size)
    batch: list[int] = []
    try:
        for index, path in enumerate(paths):
            try:
                info = probe_recording(path, time_expansion=time_expansion)
            except RecordingError as exc:
                yield RecordingFailed(index, path, str(exc))
                continue
            except MemoryError:
                yield RecordingFailed(index, path, "out of memory while analysing")
                continue
            except Exception as exc:  # a bug must not take the rest of a night's files down
                log.exception("unexpected failure probing %s", path)
                yield RecordingFailed(index, path, f"internal error: {type(exc).__name__}: {exc}")
                continue
            yield RecordingStarted(index, path, info, len(windows_for(info)))
            cached = cache.lookup(info) if cache is not None else None
            if cached is not None:
                yield RecordingAnalysed(index, cached, from_cache=True)
                continue
            tasks.infos[index] = info
            batch.append(index)
            if len(batch) >= files_per_task:
                tasks.submit(batch)
                batch = []
            yield from tasks.finished(block=False)
        if batch:
            tasks.submit(batch)
        while tasks.pending:
            yield from tasks.finished(block=True)
    finally:
        tasks.cancel()
