"""The same numbers, to the last bit, however a run is split: locally or on a cluster, whatever
the batches, the threads or the other recordings analysed with a recording.

Two things change the last bits of an analysis that have nothing to do with the recording:

* **ONNX Runtime's one-row batches.** A batch of one window is computed with another kernel (a
  matrix-vector product) than a batch of two or more. How windows are packed into batches
  depends on the run — which recordings are analysed together, which were cached, how a
  cluster's tasks cut the list — so :class:`BatchInvariantEnsemble` runs a one-row batch as two
  copies of its row and keeps the first.
* **BLAS threads.** The mel filterbank product (``einsum`` → OpenBLAS) sums in another order
  with another number of threads: a laptop's 8 cores, a Dask worker's 1 (Dask's nanny sets
  ``OMP_NUM_THREADS=1``). :func:`reproducible_numerics` runs it on one thread — the models run
  on ONNX Runtime's own threads, so nothing is lost.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import numpy as np

from bsgbat_gui.core.models.ensemble import Ensemble, FloatArray

if TYPE_CHECKING:
    from collections.abc import Iterator


class BatchInvariantEnsemble(Ensemble):
    """An :class:`~bsgbat_gui.core.models.ensemble.Ensemble` that never runs a one-row batch:
    a window's logits do not depend on the batch it is run in.
    """

    def run(self, batch: FloatArray) -> FloatArray:
        """Per-model logits for a batch: ``[B, 1, 512, 128]`` -> ``[n_models, B, n_classes]``."""
        if len(batch) == 1:
            doubled = np.concatenate([batch, batch])
            return np.ascontiguousarray(super().run(doubled)[:, :1])
        return super().run(batch)


@contextlib.contextmanager
def reproducible_numerics() -> Iterator[None]:
    """Numpy's BLAS on one thread while the context lasts (the whole process: the pipeline's
    input thread included), so spectrograms do not depend on the machine's cores.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
