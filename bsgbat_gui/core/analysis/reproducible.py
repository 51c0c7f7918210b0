"""The same numbers, to the last bit, however a run is split: locally or on a cluster, whatever
the batches, the threads or the other recordings analysed with a recording.

Two things change the last bits of an analysis that have nothing to do with the recording:

* **ONNX Runtime's one-row batches.** A batch of one window is computed with another kernel (a
  matrix-vector product) than a batch of two or more; how windows are packed into batches
  depends on the run, so :meth:`~bsgbat_gui.core.models.ensemble.Ensemble.run` itself runs a
  one-row batch as two copies of its row (every analysis, the window's too).
* **BLAS threads.** The mel filterbank product (``einsum`` → OpenBLAS) sums in another order
  with another number of threads: a laptop's 8 cores, a Dask worker's 1 (Dask's nanny sets
  ``OMP_NUM_THREADS=1``). :func:`reproducible_numerics` runs it on one thread — the models run
  on ONNX Runtime's own threads, so nothing is lost.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextlib.contextmanager
def reproducible_numerics() -> Iterator[None]:
    """Numpy's BLAS on one thread while the context lasts (the whole process: the pipeline's
    input thread included), so spectrograms do not depend on the machine's cores.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
