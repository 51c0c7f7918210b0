"""`analyze` on a Dask cluster: a real LocalCluster of two worker processes on the loopback
interface. The store and the CSV equal the local run's to the last bit; a worker killed mid-run,
a client killed mid-run, a recording that kills workers and a bad file among good ones."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from audio_factory import chirp_train, write_wav
from cli_runner import run_cli

from bsgbat_gui.__main__ import _subcommand_parser
from bsgbat_gui.core.analysis.analyse import RecordingAnalysed, RecordingFailed
from bsgbat_gui.core.analysis.cluster import (
    ClusterError,
    analyse_on_cluster,
    read_cluster_config,
)
from bsgbat_gui.core.models.ensemble import Ensemble
from bsgbat_gui.core.models.locate import read_model_set

distributed = pytest.importorskip("distributed", reason="needs the cluster extra")

import cluster_hooks  # noqa: E402 - a worker imports the hooks by this name

RATE = 384_000
HERE = Path(__file__).resolve().parent
TESTS = HERE.parents[1]


@pytest.fixture(scope="module")
def cluster_client():
    """Two worker processes, one thread each, loopback only, no dashboard. A recording may kill
    its worker twice before Dask gives up on it (allowed-failures 1), to keep the test short."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set(
        {
            "distributed.scheduler.allowed-failures": 1,
            "distributed.scheduler.worker-saturation": 1.0,
        }
    ):  # as local_cluster
        cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None, scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        )  # fmt: skip
    client = Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture
def client(cluster_client):
    cluster_client.wait_for_workers(2, timeout=60)  # after a test that killed some
    return cluster_client


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Seven recordings of 2 to 6 windows each, one of them `slow.wav` (held by a hook)."""
    folder = tmp_path_factory.mktemp("night")
    for i in range(6):
        duration = 1.0 + 0.7 * i
        write_wav(folder / f"r{i}.wav", chirp_train(RATE, duration, seed=i), RATE)
    write_wav(folder / "slow.wav", chirp_train(RATE, 2.5, seed=9, f_start_hz=50_000), RATE)
    return folder


@pytest.fixture(scope="module")
def local_run(
    night: Path, model_set_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path]:
    """The local `analyze` of the night: its store and its segments CSV."""
    out = tmp_path_factory.mktemp("local")
    store, segments = out / "local.sqlite", out / "segments.csv"
    rc, _, stderr = run_cli(
        ["analyze", str(night), "--models", str(model_set_dir), "--project", str(store),
         "--segments", str(segments)]
    )  # fmt: skip
    assert rc == 0, stderr
    return store, segments


def store_rows(path: Path) -> tuple[list[tuple], list[tuple]]:
    """A store's recordings (path, identity, metadata) and analyses (logits bytes included)."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        recordings = conn.execute(
            "SELECT path, size, mtime_ns, content_sha256, time_expansion, metadata_json,"
            " reviewed, no_bats, manual_species_json FROM recordings ORDER BY path"
        ).fetchall()
        analyses = conn.execute(
            "SELECT r.path, a.model_set_id, a.time_expansion, a.labels_json, a.model_names_json,"
            " a.n_models, a.n_segments, a.n_labels, a.logits FROM analyses a"
            " JOIN recordings r ON r.id = a.recording_id ORDER BY r.path"
        ).fetchall()
    finally:
        conn.close()
    return recordings, analyses


def assert_same_store(store: Path, reference: Path) -> None:
    recordings, analyses = store_rows(store)
    ref_recordings, ref_analyses = store_rows(reference)
    assert recordings == ref_recordings
    assert [row[:-1] for row in analyses] == [row[:-1] for row in ref_analyses]
    for row, ref in zip(analyses, ref_analyses, strict=True):
        assert np.array_equal(np.frombuffer(row[-1], "<f4"), np.frombuffer(ref[-1], "<f4")), row[0]
    assert len({row[0] for row in analyses}) == len(analyses)  # each recording once


def run_analyze(argv: list[str], worker_hook=None) -> tuple[int, str, str]:
    args = _subcommand_parser().parse_args(argv)
    stdout, stderr = io.StringIO(), io.StringIO()
    rc = args.run(args, stdout=stdout, stderr=stderr, worker_hook=worker_hook)
    return rc, stdout.getvalue(), stderr.getvalue()


def address(client) -> str:
    return client.scheduler.address


def test_a_local_cluster_gives_the_local_runs_store_and_segments_to_the_last_bit(
    night: Path, model_set_dir: Path, local_run: tuple[Path, Path], tmp_path: Path
) -> None:
    store, segments = tmp_path / "cluster.sqlite", tmp_path / "segments.csv"
    rc, _, stderr = run_cli(
        ["analyze", str(night), "--models", str(model_set_dir), "--project", str(store),
         "--segments", str(segments), "--local-cluster", "2", "--files-per-task", "2"]
    )  # fmt: skip
    assert rc == 0, stderr
    assert stderr.splitlines()[-1] == f"7 analysed (0 from {store}), 0 failed"
    assert_same_store(store, local_run[0])
    assert segments.read_bytes() == local_run[1].read_bytes()
    # Run again: everything comes from the store.
    rc, _, stderr = run_cli(
        ["analyze", str(night), "--models", str(model_set_dir), "--project", str(store),
         "--local-cluster", "2"]
    )  # fmt: skip
    assert rc == 0, stderr
    assert stderr.splitlines()[-1] == f"7 analysed (7 from {store}), 0 failed"


def test_a_worker_killed_mid_run_has_its_tasks_rerun_nothing_lost_or_duplicated(
    client, night: Path, model_set_dir: Path, local_run: tuple[Path, Path], tmp_path: Path
) -> None:
    control = tmp_path / "control"
    control.mkdir()
    killed: list[int] = []

    def kill_the_slow_tasks_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            started = list(control.glob("started-*"))
            if started:
                pid = int(started[0].name.removeprefix("started-"))
                assert pid in client.run(os.getpid).values()  # a worker of this cluster
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                (control / "killed").touch()
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_the_slow_tasks_worker)
    killer.start()
    store = tmp_path / "cluster.sqlite"
    rc, _, stderr = run_analyze(
        ["analyze", str(night), "--models", str(model_set_dir), "--project", str(store),
         "--cluster", address(client), "--files-per-task", "2"],
        worker_hook=partial(cluster_hooks.hold_until_killed, control),
    )  # fmt: skip
    killer.join()
    assert rc == 0, stderr
    assert killed, "the slow task never started"
    runs = sorted(p.name for p in control.glob("started-*"))
    assert len(runs) == 2, runs  # run on the killed worker, then again on another
    assert stderr.splitlines()[-1] == f"7 analysed (0 from {store}), 0 failed"
    assert_same_store(store, local_run[0])


def test_a_client_killed_mid_run_then_resumed_gives_the_local_runs_store(
    client, night: Path, model_set_dir: Path, local_run: tuple[Path, Path], tmp_path: Path
) -> None:
    store = tmp_path / "cluster.sqlite"
    script = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]\n"
        "import cluster_hooks\n"
        "from bsgbat_gui.__main__ import _subcommand_parser\n"
        "args = _subcommand_parser().parse_args(sys.argv[3:])\n"
        "sys.exit(args.run(args, worker_hook=cluster_hooks.slow))\n"
    )
    argv = ["analyze", str(night), "--models", str(model_set_dir), "--project", str(store),
            "--local-cluster", "2", "--files-per-task", "1"]  # fmt: skip
    log = tmp_path / "client.log"
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-c", script, str(HERE), str(TESTS), *argv],
            stdout=subprocess.DEVNULL, stderr=log_file, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        analysed = 0
        while analysed == 0 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.02)
            analysed = count_analyses(store)
        assert proc.poll() is None, log.read_text(errors="replace")
        proc.kill()  # the client (and the scheduler it runs): no clean-up of any kind
        proc.wait(timeout=30)
    finally:
        with_leftovers_killed(proc)
    kept = count_analyses(store)
    assert 1 <= kept < 7
    rc, _, stderr = run_cli(
        ["analyze", str(night), "--models", str(model_set_dir), "--project", str(store),
         "--cluster", address(client)]
    )  # fmt: skip
    assert rc == 0, stderr
    assert stderr.splitlines()[-1] == f"7 analysed ({kept} from {store}), 0 failed"
    assert_same_store(store, local_run[0])


def count_analyses(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        conn = sqlite3.connect(f"{store.as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            return int(conn.execute("SELECT count(*) FROM analyses").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.OperationalError:  # not created yet
        return 0


def with_leftovers_killed(proc: subprocess.Popen) -> None:
    """The killed client's worker processes (its session, started by this test) go too."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def test_a_recording_that_kills_workers_is_reported_and_skipped_the_rest_analysed(
    client, model_set_dir: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "night"
    folder.mkdir()
    for name in ("a.wav", "poison.wav", "b.wav", "c.wav"):
        write_wav(folder / name, chirp_train(RATE, 1.5, seed=len(name)), RATE)
    store = tmp_path / "cluster.sqlite"
    rc, _, stderr = run_analyze(
        ["analyze", str(folder), "--models", str(model_set_dir), "--project", str(store),
         "--cluster", address(client), "--files-per-task", "2"],
        worker_hook=cluster_hooks.kill_on_poison,
    )  # fmt: skip
    assert rc == 1
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {folder / 'poison.wav'}: killed the worker 2 times, skipped"]
    assert stderr.splitlines()[-1] == f"3 analysed (0 from {store}), 1 failed"
    _, analyses = store_rows(store)
    assert sorted(Path(row[0]).name for row in analyses) == ["a.wav", "b.wav", "c.wav"]


def test_a_bad_file_among_good_ones_is_one_error_line_as_in_the_local_run(
    client, model_set_dir: Path, tmp_path: Path
) -> None:
    from bad_inputs import build_corpus

    folder = tmp_path / "night"
    build_corpus(folder)
    outputs = {}
    for where in ("local", "cluster"):
        segments = tmp_path / f"{where}.csv"
        argv = ["analyze", str(folder), "--models", str(model_set_dir), "--segments",
                str(segments)]  # fmt: skip
        if where == "cluster":
            argv += ["--cluster", address(client)]
        rc, _, stderr = run_cli(argv)
        assert rc == 1, stderr
        assert "Traceback" not in stderr
        outputs[where] = (sorted(stderr.splitlines()), segments.read_bytes())
    assert outputs["cluster"] == outputs["local"]


def test_the_cluster_events_are_the_local_pipelines(
    client, night: Path, model_set_dir: Path
) -> None:
    """The core API: one final event per recording, in the local pipeline's terms."""
    paths = sorted(night.glob("*.wav"))
    events = list(analyse_on_cluster(paths, client, read_model_set(model_set_dir)))
    final = [e for e in events if isinstance(e, (RecordingAnalysed, RecordingFailed))]
    assert sorted(e.index for e in final) == list(range(len(paths)))
    assert all(isinstance(e, RecordingAnalysed) and not e.from_cache for e in final)


def test_a_windows_logits_do_not_depend_on_the_batch_it_is_run_in(model_set_dir: Path) -> None:
    """What makes a cluster's numbers the local run's: tasks cut the batches differently."""
    ensemble = Ensemble(read_model_set(model_set_dir))
    x = np.random.default_rng(0).standard_normal((16, 1, 512, 128)).astype(np.float32)
    full = ensemble.run(x)
    for size in range(1, 17):
        for start in (0, 16 - size):
            assert np.array_equal(ensemble.run(x[start : start + size]), full[:, start:][:, :size])


def test_without_the_extra_a_cluster_option_is_one_error_line(
    tmp_path: Path, model_set_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed: ImportError
    path = write_wav(tmp_path / "a.wav", chirp_train(RATE, 1.0), RATE)
    rc, _, stderr = run_cli(
        ["analyze", str(path), "--models", str(model_set_dir), "--local-cluster", "2"]
    )
    assert rc == 2
    assert stderr == (
        'error: --local-cluster needs the cluster extra: pip install "bsgbat-gui[cluster]"\n'
    )


def test_a_cluster_config_file_builds_the_cluster_it_names(
    night: Path, model_set_dir: Path, local_run: tuple[Path, Path], tmp_path: Path
) -> None:
    config = tmp_path / "cluster.yaml"
    config.write_text("cluster: local\njobs: 2\nthreads_per_worker: 1\n", encoding="utf-8")
    segments = tmp_path / "segments.csv"
    rc, _, stderr = run_cli(
        ["analyze", str(night), "--models", str(model_set_dir), "--segments", str(segments),
         "--cluster-config", str(config)]
    )  # fmt: skip
    assert rc == 0, stderr
    assert segments.read_bytes() == local_run[1].read_bytes()


def test_cluster_config_files_are_checked(tmp_path: Path) -> None:
    config = tmp_path / "cluster.yaml"
    config.write_text(
        "cluster: slurm\njobs: 10\ncores: 8\nmemory: 16GB\nwalltime: '04:00:00'\n",
        encoding="utf-8",
    )
    assert read_cluster_config(config) == (
        "slurm", 10, {"cores": 8, "memory": "16GB", "walltime": "04:00:00"}
    )  # fmt: skip
    for text, says in (
        ("cluster: mainframe\n", "unknown cluster 'mainframe'"),
        ("cluster: pbs\njobs: 0\n", "'jobs' must be"),
        ("- a list\n", "expected keys"),
        ("cluster: [\n", "not a YAML file"),
    ):
        config.write_text(text, encoding="utf-8")
        with pytest.raises(ClusterError, match=says):
            read_cluster_config(config)
    with pytest.raises(ClusterError, match="cannot be read"):
        read_cluster_config(tmp_path / "absent.yaml")


def test_an_unreachable_scheduler_is_one_error_line(tmp_path: Path, model_set_dir: Path) -> None:
    import dask

    path = write_wav(tmp_path / "a.wav", chirp_train(RATE, 1.0), RATE)
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        rc, _, stderr = run_cli(
            ["analyze", str(path), "--models", str(model_set_dir), "--cluster", "tcp://127.0.0.1:9"]
        )
    assert rc == 2
    assert stderr.startswith("error: cannot connect to tcp://127.0.0.1:9")
    assert len(stderr.splitlines()) == 1
