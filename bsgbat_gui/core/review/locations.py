"""Where a survey's review store lives and how it names recordings.

The store sits in the survey folder (``bsgbat-review.sqlite``), or, for a folder that cannot be
written, in the user data folder (one file per survey folder). Recordings are kept by their path
**relative to the survey folder** with ``/`` separators, so a survey folder copied or moved to
another disk or computer keeps its review and its cache; paths outside it are kept absolute.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from bsgbat_gui.core.files import canonical_path
from bsgbat_gui.core.resources import APP_NAME

if TYPE_CHECKING:
    from collections.abc import Sequence

STORE_FILENAME = "bsgbat-review.sqlite"


def survey_folder(paths: Sequence[Path]) -> Path:
    """The folder a set of opened paths reviews: the opened folder, or the first file's."""
    first = paths[0]
    return canonical_path(first if first.is_dir() else first.parent)


def default_store_path(paths: Sequence[Path]) -> Path:
    """``bsgbat-review.sqlite`` in the opened folder (or the first file's folder)."""
    return survey_folder(paths) / STORE_FILENAME


def fallback_store_path(folder: Path) -> Path:
    """Where the store of a read-only ``folder`` goes: the user data folder, one file per
    survey folder, named after it (plus a hash of its path, so two "night1" folders differ).
    """
    from platformdirs import user_data_path

    tag = hashlib.sha1(str(canonical_path(folder)).encode()).hexdigest()[:10]
    return user_data_path(APP_NAME, appauthor=False) / "reviews" / f"{folder.name}-{tag}.sqlite"


def writable_store_path(paths: Sequence[Path]) -> Path:
    """The default store path, or the fallback when its folder cannot be written."""
    preferred = default_store_path(paths)
    if preferred.exists() and os.access(preferred, os.W_OK):
        return preferred
    if not preferred.exists() and os.access(preferred.parent, os.W_OK | os.X_OK):
        return preferred
    return fallback_store_path(preferred.parent)


def path_key(path: Path, root: Path) -> str:
    """How the store keeps ``path``: relative to ``root`` with ``/`` separators when inside it
    (portable between computers), else absolute.
    """
    return key_of_canonical(canonical_path(path), root)


def key_of_canonical(path: Path, root: Path) -> str:
    """:func:`path_key` of a path already canonical (see :func:`canonical_paths`)."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def key_path(key: str, root: Path) -> Path:
    """The absolute path a stored key stands for (see :func:`path_key`)."""
    return Path(key) if Path(key).is_absolute() else root.joinpath(*key.split("/"))
