"""`analyze --shard I/N`: deterministic shares of a survey for plain job arrays."""

from __future__ import annotations

from pathlib import Path

import pytest
from audio_factory import chirp_train, write_wav
from cli_runner import run_cli

from bsgbat_gui.core.analysis.shards import Shard, parse_shard, select_shard, shard_key, shard_of


def test_shards_partition_the_recordings_whatever_their_order(tmp_path: Path) -> None:
    folder = tmp_path / "night"
    names = [f"site{i % 3}/rec{i:04d}.wav" for i in range(500)]
    paths = [folder / name for name in names]
    for n in (1, 2, 3, 7):
        shares = [select_shard(paths, [folder], Shard(i, n)) for i in range(1, n + 1)]
        assert sorted(p for share in shares for p in share) == sorted(paths)  # each exactly once
        assert sum(len(share) for share in shares) == len(paths)
        if n > 1:
            assert all(len(share) > len(paths) / n / 2 for share in shares)  # roughly even
        reversed_shares = [
            select_shard(paths[::-1], [folder], Shard(i, n)) for i in range(1, n + 1)
        ]
        assert [sorted(s) for s in reversed_shares] == [sorted(s) for s in shares]


def test_a_recordings_shard_depends_on_its_path_in_the_survey_not_where_it_is_mounted(
    tmp_path: Path,
) -> None:
    a, b = tmp_path / "laptop" / "night", tmp_path / "cluster" / "scratch" / "night"
    for name in ("x.wav", "sub/y.wav"):
        assert shard_key(a / name, [a]) == shard_key(b / name, [b]) == name
    assert shard_key(tmp_path / "alone.wav", [a]) == "alone.wav"  # a file given by itself


def test_the_hash_is_stable_across_versions_and_processes() -> None:
    """SHA-256, not Python's salted hash: pinned so that a job array's shares never move."""
    assert [shard_of(f"rec{i}.wav", 10) for i in range(8)] == [9, 6, 7, 4, 5, 6, 9, 9]


@pytest.mark.parametrize(
    ("text", "says"),
    [("3", "not I/N"), ("a/b", "not I/N"), ("0/4", "between 1 and N"), ("5/4", "between 1 and N")],
)
def test_bad_shards_are_refused(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_shard(text)


def test_the_shards_of_a_folder_analyse_every_recording_once(
    tmp_path: Path, model_set_dir: Path
) -> None:
    folder = tmp_path / "night"
    folder.mkdir()
    for i in range(6):
        write_wav(folder / f"r{i}.wav", chirp_train(384_000, 1.0, seed=i), 384_000)
    seen: list[str] = []
    for i in (1, 2, 3):
        segments = tmp_path / f"shard{i}.csv"
        rc, _, stderr = run_cli(
            ["analyze", str(folder), "--models", str(model_set_dir), "--shard", f"{i}/3",
             "--segments", str(segments)]
        )  # fmt: skip
        if rc == 0 and segments.exists():
            rows = segments.read_text().splitlines()[1:]
            seen += sorted({row.split(",")[0] for row in rows})
        else:
            assert rc == 0, stderr
    assert sorted(Path(p).name for p in seen) == [f"r{i}.wav" for i in range(6)]
