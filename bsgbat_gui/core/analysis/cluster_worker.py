"""What runs on a Dask worker: the model set, loaded once per worker by a worker plugin, and the
task that analyses a batch of recordings given by path.

This module imports ``distributed`` at the top: only :mod:`bsgbat_gui.core.analysis.cluster`
imports it, and only once the ``cluster`` extra is known to be installed. A task reads the
recordings itself (a filesystem shared by the client and the workers is assumed) and returns per
recording its identity (size, modification time, SHA-256) and its per-model logits — never audio.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from distributed import WorkerPlugin, get_worker

from bsgbat_gui.core.analysis.analyse import RecordingAnalysed, RecordingFailed
from bsgbat_gui.core.analysis.cluster import (
    CHANGED,
    PLUGIN_NAME,
    RecordingIdentity,
    RemoteOutcome,
)
from bsgbat_gui.core.analysis.pipeline import analyse_recordings
from bsgbat_gui.core.analysis.reproducible import reproducible_numerics
from bsgbat_gui.core.files import sha256_file
from bsgbat_gui.core.models.ensemble import DEFAULT_PROVIDER, Ensemble

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from distributed import Worker

    from bsgbat_gui.core.models.locate import ModelSet

log = logging.getLogger(__name__)


class EnsemblePlugin(WorkerPlugin):
    """Loads the model set once per worker (when the worker starts or joins), with ONNX
    Runtime's intra-op threads set to the worker's threads.

    Parameters
    ----------
    model_set
        The model set's files, at paths every worker can read.
    provider
        The ONNX Runtime execution provider.
    before_each
        Called on the worker with each recording's path before a task analyses it (tests use it
        to slow a task down or to kill its worker); None in normal use.
    """

    name = PLUGIN_NAME

    def __init__(
        self,
        model_set: ModelSet,
        *,
        provider: str = DEFAULT_PROVIDER,
        before_each: Callable[[Path], None] | None = None,
    ) -> None:
        self.model_set = model_set
        self.provider = provider
        self.before_each = before_each
        self.ensemble: Ensemble | None = None
        self.lock: threading.Lock | None = None

    def setup(self, worker: Worker) -> None:
        """Load the models (a :class:`ModelSetError` is sent to the client that registered
        the plugin).
        """
        self.lock = threading.Lock()
        self.ensemble = Ensemble(
            self.model_set, provider=self.provider, intra_op_threads=max(worker.state.nthreads, 1)
        )

    def teardown(self, worker: Worker) -> None:
        """Release the models' sessions."""
        self.ensemble = None


def _identity(path: Path) -> RecordingIdentity:
    stat = path.stat()
    return RecordingIdentity(stat.st_size, stat.st_mtime_ns, sha256_file(path))


def _changed(path: Path, identity: RecordingIdentity) -> bool:
    try:
        stat = path.stat()
    except OSError:
        return True
    return (stat.st_size, stat.st_mtime_ns) != (identity.size, identity.mtime_ns)


def analyse_task(
    items: list[tuple[int, Path]], time_expansion: float | None, batch_size: int
) -> list[RemoteOutcome]:
    """Analyse recordings ``(index, path)`` with this worker's ensemble: one outcome each.

    The recordings go through :func:`~bsgbat_gui.core.analysis.pipeline.analyse_recordings`, the
    local ``analyze``'s own pipeline. One task at a time uses a worker's ensemble (it already
    runs on all the worker's threads).
    """
    plugin = get_worker().plugins.get(PLUGIN_NAME)
    if not isinstance(plugin, EnsemblePlugin) or plugin.ensemble is None or plugin.lock is None:
        raise RuntimeError("this worker has no model set loaded (its plugin failed to start)")
    ensemble = plugin.ensemble
    outcomes: dict[int, RemoteOutcome] = {}
    identities: dict[int, RecordingIdentity] = {}
    paths: list[Path] = []
    with plugin.lock, reproducible_numerics():
        for index, path in items:
            if plugin.before_each is not None:
                plugin.before_each(path)
            try:
                identities[index] = _identity(path)
            except OSError as exc:
                outcomes[index] = RemoteOutcome(index, path, error=f"cannot be read: {exc}")
                continue
            paths.append(path)
        indices = [index for index, _ in items if index not in outcomes]
        for event in analyse_recordings(
            paths, ensemble, time_expansion=time_expansion, batch_size=batch_size
        ):
            if isinstance(event, RecordingFailed):
                index = indices[event.index]
                outcomes[index] = RemoteOutcome(index, event.path, error=event.reason)
            elif isinstance(event, RecordingAnalysed):
                index = indices[event.index]
                analysis = event.analysis
                if _changed(analysis.info.path, identities[index]):
                    outcomes[index] = RemoteOutcome(index, analysis.info.path, error=CHANGED)
                    continue
                outcomes[index] = RemoteOutcome(
                    index,
                    analysis.info.path,
                    identity=identities[index],
                    logits=analysis.per_model_logits,
                    labels=analysis.labels,
                    model_names=analysis.model_names,
                )
    return [
        outcomes.get(index) or RemoteOutcome(index, path, error="not analysed (internal error)")
        for index, path in items
    ]
