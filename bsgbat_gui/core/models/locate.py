"""Finding and validating a BSG-BAT model set on disk.

A model set is a folder holding ``bsgbat_v0.21_r1.onnx`` … ``r6.onnx`` (1 to 6 of them),
``bsgbat_labels.txt`` and, when present, ``SHA256SUMS``. It is looked for, in order, in
``--models DIR``, ``$BSGBAT_MODELS``, ``models/`` of a source checkout, and the per-user data
folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import bsgbat_gui
from bsgbat_gui.core.model_card import CHECKSUMS_FILENAME, LABELS_FILENAME, MODEL_FILENAMES
from bsgbat_gui.core.resources import APP_NAME
from bsgbat_gui.core.species import parse_labels_text

MODELS_ENV_VAR = "BSGBAT_MODELS"


class ModelSetError(Exception):
    """A model set is missing or invalid; the message names the file and the problem."""


@dataclass(frozen=True)
class ModelSetLocation:
    """A candidate folder and how it was found (``--models``, ``$BSGBAT_MODELS``, …)."""

    folder: Path
    origin: str


@dataclass(frozen=True)
class ModelSet:
    """The files of a model set (not yet loaded into ONNX Runtime)."""

    folder: Path
    model_paths: tuple[Path, ...]
    labels: tuple[str, ...]
    origin: str = ""

    @property
    def model_names(self) -> tuple[str, ...]:
        """The checkpoints' names (file stems), in file order."""
        return tuple(p.stem for p in self.model_paths)

    @property
    def incomplete(self) -> str:
        """What is missing when the folder holds fewer checkpoints than the release ("" when
        complete): an ensemble of 1 of 6 models gives other numbers than the model card's.
        """
        missing = [name for name in MODEL_FILENAMES if self.folder / name not in self.model_paths]
        if not missing:
            return ""
        return (
            f"{self.folder}: only {len(self.model_paths)} of the {len(MODEL_FILENAMES)} BSG-BAT "
            f"checkpoints (missing {', '.join(missing)}): the ensemble is incomplete, so its "
            "probabilities are not the release's; `bsgbat-gui models verify` says more"
        )


def _installed_from() -> Path | None:
    """The local folder the app was pip-installed from (``pip install .``, editable or not), as
    pip records it in the distribution's ``direct_url.json`` (PEP 610); None otherwise.
    """
    import json
    from importlib.metadata import PackageNotFoundError, distribution
    from urllib.parse import unquote, urlparse

    try:
        text = distribution(APP_NAME).read_text("direct_url.json")
    except PackageNotFoundError:
        return None
    if not text:
        return None
    try:
        url = urlparse(str(json.loads(text).get("url", "")))
    except (ValueError, AttributeError):
        return None
    return Path(unquote(url.path)) if url.scheme == "file" else None


def source_checkout_models_dir() -> Path | None:
    """``models/`` of the source checkout the app runs from — the code's own checkout, or the
    clone it was ``pip install``-ed from (an installed copy lives in site-packages) — if any.
    """
    package_root = Path(bsgbat_gui.__file__).resolve().parent.parent  # holds bsgbat_gui/
    for root in (package_root, _installed_from()):
        if root is not None and (root / "pyproject.toml").is_file() and (root / "models").is_dir():
            return root / "models"
    return None


def user_models_dir() -> Path:
    """Where downloaded models live for this user (platformdirs' user data folder)."""
    from platformdirs import user_data_path

    return user_data_path(APP_NAME, appauthor=False) / "models"


def candidate_locations(explicit: Path | None = None) -> list[ModelSetLocation]:
    """Folders to look in, most specific first."""
    candidates: list[ModelSetLocation] = []
    if explicit is not None:
        candidates.append(ModelSetLocation(explicit, "--models"))
    env = os.environ.get(MODELS_ENV_VAR)
    if env:
        candidates.append(ModelSetLocation(Path(env), f"${MODELS_ENV_VAR}"))
    checkout = source_checkout_models_dir()
    if checkout is not None:
        candidates.append(ModelSetLocation(checkout, "source checkout"))
    candidates.append(ModelSetLocation(user_models_dir(), "user data folder"))
    return candidates


def read_model_set(folder: Path, *, origin: str = "") -> ModelSet:
    """The model files and labels in ``folder`` (files only; ONNX validation happens on load).

    Raises
    ------
    ModelSetError
        When the folder has no model file or no readable labels file.
    """
    if not folder.is_dir():
        raise ModelSetError(f"{folder}: no such folder")
    model_paths = tuple(folder / name for name in MODEL_FILENAMES if (folder / name).is_file())
    if not model_paths:
        raise ModelSetError(
            f"{folder}: no model files (expected {MODEL_FILENAMES[0]} … {MODEL_FILENAMES[-1]})"
        )
    labels_path = folder / LABELS_FILENAME
    try:
        labels = tuple(parse_labels_text(labels_path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise ModelSetError(f"{labels_path}: labels file missing") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelSetError(f"{labels_path}: cannot be read ({exc})") from None
    if not labels:
        raise ModelSetError(f"{labels_path}: no labels in the file")
    return ModelSet(folder=folder, model_paths=model_paths, labels=labels, origin=origin)


def locate_model_set(explicit: Path | None = None) -> ModelSet:
    """The first usable model set among :func:`candidate_locations`.

    An explicit ``--models`` folder that is not a model set is an error by itself (the user asked
    for it); the other places are skipped when empty.
    """
    problems: list[str] = []
    for location in candidate_locations(explicit):
        try:
            return read_model_set(location.folder, origin=location.origin)
        except ModelSetError as exc:
            if location.origin == "--models":
                raise
            problems.append(f"{location.origin}: {exc}")
    raise ModelSetError(
        "no BSG-BAT model set found. Looked in: "
        + "; ".join(problems)
        + ". Use --models DIR or set $BSGBAT_MODELS (see models/README.md)."
    )


QUANTIZED_MARKER = "QUANTIZED.json"  # in a model-set folder made by `models quantize`


def is_quantized(folder: Path) -> bool:
    """Whether a model-set folder is a validated INT8 copy
    (see :mod:`bsgbat_gui.core.models.quantize`).
    """
    return (folder / QUANTIZED_MARKER).is_file()


def read_checksums(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` from ``SHA256SUMS`` (``sha256sum`` format), empty if absent."""
    path = folder / CHECKSUMS_FILENAME
    if not path.is_file():
        return {}
    return parse_checksums(path.read_text(encoding="utf-8"))


def parse_checksums(text: str) -> dict[str, str]:
    """``{relative path: sha256}`` from ``sha256sum`` output (``HASH  name`` or ``HASH *name``)."""
    sums: dict[str, str] = {}
    for line in text.splitlines():
        parts = line.strip().split(maxsplit=1)
        if len(parts) == 2 and len(parts[0]) == 64:
            sums[parts[1].lstrip("*").strip()] = parts[0].lower()
    return sums
