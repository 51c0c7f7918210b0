"""Run core generators in a child process and iterate their items in this one.

Why a process and not just a thread: analysis and spectrogram computation are CPU-bound Python and
numpy. In the GUI's own process they compete with the event loop for the GIL (and, on a two-core
laptop, for the cores), and a repaint that takes 20 ms alone took 100-300 ms under that load. In a
child process the GIL is not shared, and the child runs at a lower scheduling priority, so the
window stays responsive however much work is queued. A crash in native code (a model runtime, an
audio library) also ends the child, not the window: the next job starts a fresh one.

A job is a module-level generator function (picklable by name) called in the child as
``job(*args, should_stop=..., **kwargs)``; what it yields must be picklable. An exception it raises
is re-raised in the parent by :meth:`ComputeProcess.iterate`.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import pickle
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

log = logging.getLogger(__name__)

Job = Callable[..., Iterator[Any]]


class ComputeProcessDied(RuntimeError):
    """The child process ended in the middle of a job (crash, killed for memory, ...)."""


@dataclass(frozen=True)
class _Item:
    value: Any


@dataclass(frozen=True)
class _Raised:
    exception: BaseException


@dataclass(frozen=True)
class _Finished:
    pass


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # noqa: BLE001 - pickling fails in many ways; the message survives
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _serve(
    conn: Connection,
    stop: Any,
    ready: Any,
    niceness: int,
    initializer: Callable[[], None] | None,
) -> None:
    """The child's loop: run jobs one at a time until told to quit or the parent goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is the parent's to handle
    if niceness and hasattr(os, "nice"):
        os.nice(niceness)
    if initializer is not None:
        try:
            initializer()
        except Exception:  # a broken install shows up properly in the first job
            log.exception("compute process initializer failed")
    ready.set()
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return  # the parent has gone
        if request is None:
            return
        job, args, kwargs = request
        try:
            for value in job(*args, should_stop=stop.is_set, **kwargs):
                conn.send(_Item(value))
        except Exception as exc:  # noqa: BLE001 - a job's error is re-raised in the parent
            log.debug("job %s raised:\n%s", getattr(job, "__name__", job), traceback.format_exc())
            conn.send(_Raised(_picklable(exc)))
        else:
            conn.send(_Finished())


class ComputeProcess:
    """A long-lived child process that runs generator jobs one at a time.

    Thread-safe: :meth:`iterate` may be called from any thread (one job runs at a time; others
    wait), :meth:`request_stop` and :meth:`close` from any other.
    """

    def __init__(
        self,
        name: str,
        *,
        niceness: int = 0,
        initializer: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self._niceness = niceness
        self._initializer = initializer
        # "spawn" everywhere: a forked child would inherit the GUI's threads and Qt state.
        self._context = multiprocessing.get_context("spawn")
        self._stop = self._context.Event()
        self._job_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._closed = False
        self._process: Any = None
        self._conn: Connection | None = None
        self._ready: Any = None
        self._start()

    def _start(self) -> None:
        with self._start_lock:
            if self._closed:
                raise ComputeProcessDied(f"{self.name} process has been closed")
            if self._process is not None and self._process.is_alive():
                return
            parent_conn, child_conn = self._context.Pipe()
            self._ready = self._context.Event()
            process = self._context.Process(
                target=_serve,
                args=(child_conn, self._stop, self._ready, self._niceness, self._initializer),
                name=self.name,
                daemon=True,
            )
            process.start()
            child_conn.close()
            self._process, self._conn = process, parent_conn

    @property
    def is_ready(self) -> bool:
        """True once the child has started and run its initializer."""
        return self._ready is not None and bool(self._ready.is_set())

    def wait_ready(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the child to be ready; whether it is."""
        return self._ready is not None and bool(self._ready.wait(timeout_s))

    def request_stop(self) -> None:
        """Ask the running job (if any) to stop at its next ``should_stop`` check."""
        self._stop.set()

    def iterate(self, job: Job, *args: Any, **kwargs: Any) -> Iterator[Any]:
        """Yield what ``job(*args, should_stop=..., **kwargs)`` yields in the child.

        Raises what the job raised, or :class:`ComputeProcessDied` when the child ends mid-job
        (the next call starts a new child).
        """
        with self._job_lock:
            self._start()
            self._stop.clear()
            conn = self._conn
            assert conn is not None
            try:
                conn.send((job, args, kwargs))
            except (OSError, ValueError) as exc:
                raise self._died() from exc
            finished = False
            try:
                while True:
                    message = self._receive(conn)
                    if isinstance(message, _Item):
                        yield message.value
                    elif isinstance(message, _Raised):
                        finished = True
                        raise message.exception
                    else:
                        finished = True
                        return
            finally:
                if not finished:  # the caller stopped iterating: let the job end, drop its output
                    self._stop.set()
                    self._drain(conn)

    def _receive(self, conn: Connection) -> object:
        try:
            return conn.recv()
        except (EOFError, OSError) as exc:
            raise self._died() from exc

    def _drain(self, conn: Connection) -> None:
        try:
            while isinstance(conn.recv(), _Item):
                pass
        except (EOFError, OSError):
            pass

    def _died(self) -> ComputeProcessDied:
        process = self._process
        if process is not None:
            process.join(timeout=1.0)
        code = None if process is None else process.exitcode
        self._process = None
        detail = f" (exit code {code})" if code is not None else ""
        return ComputeProcessDied(f"the {self.name} process stopped unexpectedly{detail}")

    def close(self, timeout_s: float = 0.5) -> None:
        """Stop the running job, end the child, and wait for it — briefly, so that closing the
        window never waits: a child still starting up (importing, loading models) is ended at
        once; one that has not stopped within ``timeout_s`` is terminated, then killed. Nothing
        is lost by it: results reach the review store in committed transactions only.
        """
        with self._start_lock:
            self._closed = True
        self._stop.set()
        process, conn = self._process, self._conn
        if process is None:
            return
        if not self.is_ready:
            process.terminate()  # still in its initializer: nothing to finish
        else:
            if conn is not None:
                with contextlib.suppress(OSError, ValueError):  # the child may be gone already
                    conn.send(None)
            process.join(timeout_s)
            if process.is_alive():
                log.info("%s process still busy after %.1f s; terminating it", self.name, timeout_s)
                process.terminate()
        process.join(0.5)
        if process.is_alive():
            process.kill()
            process.join(0.5)
        if conn is not None and self._job_lock.acquire(blocking=False):
            conn.close()  # no job is reading from it
            self._job_lock.release()
