"""Deterministic shares of a set of recordings, for plain job arrays (``analyze --shard I/N``).

Each recording belongs to exactly one of ``N`` shards, chosen by a stable hash (SHA-256, never
Python's per-process ``hash``) of its path **relative to the folder it was found in** (for a
file given by itself, its name). The choice therefore does not depend on where the survey folder
is mounted, on the order of the files, or on the other files: ``N`` jobs each running
``analyze FOLDER --shard I/N --project shard-I.sqlite`` analyse every recording exactly once,
and ``merge-stores`` joins their stores.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bsgbat_gui.core.files import canonical_path

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1 to ``count``) of ``count``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1 or not 1 <= self.index <= self.count:
            raise ValueError(f"shard {self.index}/{self.count}: I must be between 1 and N")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> Shard:
    """A shard from ``"I/N"`` (1 ≤ I ≤ N). Raises ``ValueError`` with a one-line reason."""
    index_text, sep, count_text = text.partition("/")
    try:
        if not sep:
            raise ValueError
        index, count = int(index_text), int(count_text)
    except ValueError:
        raise ValueError(f"{text!r} is not I/N (e.g. 3/10)") from None
    return Shard(index, count)


def shard_key(path: Path, roots: Sequence[Path]) -> str:
    """What a recording is hashed by: its path relative to the first of ``roots`` (the folders
    given on the command line) that holds it, with ``/`` separators; else its file name.
    """
    path = canonical_path(path)
    for root in roots:
        try:
            return path.relative_to(canonical_path(root)).as_posix()
        except ValueError:
            continue
    return path.name


def shard_of(key: str, count: int) -> int:
    """The shard (1 to ``count``) a key belongs to: the first 8 bytes of its SHA-256, mod N."""
    digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def select_shard(recordings: Sequence[Path], roots: Sequence[Path], shard: Shard) -> list[Path]:
    """The recordings of ``shard``, in their given order."""
    folders = [root for root in roots if root.is_dir()]
    return [p for p in recordings if shard_of(shard_key(p, folders), shard.count) == shard.index]
