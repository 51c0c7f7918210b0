"""The child process that runs the GUI's long jobs: streaming, errors, stop, crashes, close."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

import pytest

from bsgbat_gui.core.compute.process import ComputeProcess, ComputeProcessDied

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


def count_job(n: int, *, should_stop: Callable[[], bool]) -> Iterator[tuple[int, int]]:
    for i in range(n):
        yield i, os.getpid()


def failing_job(message: str, *, should_stop: Callable[[], bool]) -> Iterator[int]:
    yield 1
    raise ValueError(message)


def endless_job(*, should_stop: Callable[[], bool]) -> Iterator[int]:
    i = 0
    while not should_stop():
        time.sleep(0.01)
        yield i
        i += 1


def crashing_job(*, should_stop: Callable[[], bool]) -> Iterator[int]:
    yield 1
    os._exit(3)


class Unpicklable(Exception):
    def __init__(self) -> None:
        super().__init__("has a lock")
        self.lock = __import__("threading").Lock()


def unpicklable_error_job(*, should_stop: Callable[[], bool]) -> Iterator[int]:
    raise Unpicklable()
    yield 0  # pragma: no cover - makes this a generator


def niceness_job(*, should_stop: Callable[[], bool]) -> Iterator[int]:
    yield os.nice(0)


@pytest.fixture
def process() -> Iterator[ComputeProcess]:
    proc = ComputeProcess("test", niceness=4)
    yield proc
    proc.close()


def test_items_stream_back_from_another_process(process: ComputeProcess) -> None:
    items = list(process.iterate(count_job, 5))
    assert [i for i, _pid in items] == [0, 1, 2, 3, 4]
    assert {pid for _i, pid in items} != {os.getpid()}
    # The same child serves the next job (its ensemble cache survives).
    assert {pid for _i, pid in process.iterate(count_job, 2)} == {items[0][1]}
    assert process.is_ready


def test_child_runs_at_lower_priority(process: ComputeProcess) -> None:
    if not hasattr(os, "nice"):
        pytest.skip("no nice() on this platform")
    (child_nice,) = process.iterate(niceness_job)
    assert child_nice == os.nice(0) + 4


def test_job_exceptions_are_raised_in_the_parent(process: ComputeProcess) -> None:
    seen: list[int] = []
    with pytest.raises(ValueError, match="bad file"):
        seen.extend(process.iterate(failing_job, "bad file"))
    assert seen == [1]
    with pytest.raises(RuntimeError, match="Unpicklable: has a lock"):
        list(process.iterate(unpicklable_error_job))
    assert len(list(process.iterate(count_job, 3))) == 3  # still serving


def test_request_stop_ends_a_running_job(process: ComputeProcess) -> None:
    got = []
    for item in process.iterate(endless_job):
        got.append(item)
        if len(got) == 3:
            process.request_stop()
    assert len(got) >= 3
    assert len(list(process.iterate(count_job, 2))) == 2  # the stop applied to that job only


def test_abandoned_iteration_leaves_no_stale_items(process: ComputeProcess) -> None:
    iterator = process.iterate(endless_job)
    assert next(iterator) == 0
    iterator.close()  # e.g. the caller broke out of its loop
    assert [i for i, _pid in process.iterate(count_job, 3)] == [0, 1, 2]


def test_a_crashed_child_fails_its_job_and_is_replaced(process: ComputeProcess) -> None:
    with pytest.raises(ComputeProcessDied, match="exit code 3"):
        list(process.iterate(crashing_job))
    assert [i for i, _pid in process.iterate(count_job, 2)] == [0, 1]


def test_close_ends_the_child() -> None:
    proc = ComputeProcess("closing")
    assert proc.wait_ready(60)
    child = proc._process
    proc.close()
    assert child is not None
    assert not child.is_alive()
    with pytest.raises(ComputeProcessDied):
        list(proc.iterate(count_job, 1))


def slow_initializer() -> None:
    time.sleep(30)  # like loading six models on a slow laptop


def stubborn_job(*, should_stop: Callable[[], bool]) -> Iterator[int]:
    """A job that never looks at should_stop (a model run in native code)."""
    yield 1
    time.sleep(30)


def test_close_is_quick_while_the_child_warms_up_or_will_not_stop() -> None:
    """Closing the window must not wait for a helper to finish starting (it waited 5 s each)
    or for a job that cannot be interrupted."""
    warming = ComputeProcess("warming", initializer=slow_initializer)
    time.sleep(0.3)
    assert not warming.is_ready
    started = time.perf_counter()
    warming.close()
    assert time.perf_counter() - started < 1.0
    assert not warming._process.is_alive()

    busy = ComputeProcess("busy")
    assert busy.wait_ready(30)
    items = busy.iterate(stubborn_job)
    assert next(items) == 1
    started = time.perf_counter()
    busy.close()
    assert time.perf_counter() - started < 1.5
    assert not busy._process.is_alive()
