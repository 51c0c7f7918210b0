"""Per-species thresholds and the combine method, and their JSON presets.

A preset names species by scientific name (the model's labels), so it survives a model set whose
label order differs. Loading is forgiving: unknown names and bad values are reported, never fatal;
the rest of the preset still applies. A preset is a complete state: species it does not list get
the default threshold, so loading the same preset always gives the same result.

Format::

    {"format": "bsgbat-gui thresholds", "version": 1, "combine": "mean",
     "thresholds": {"Pipistrellus pipistrellus": 0.7, "Background": 0.5, ...},
     "excluded": ["Miniopterus schreibersii"]}

``excluded`` (optional) lists species left out of detection altogether — typically the model's
species that do not occur in the survey area (the survey species list): they make no event
anywhere (tables, shading, exports), whatever their probability.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

import numpy as np
import numpy.typing as npt

from bsgbat_gui.core.files import AtomicTextFile
from bsgbat_gui.core.models.ensemble import COMBINE_METHODS, CombineMethod

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

DEFAULT_THRESHOLD = 0.5  # the card's starting point
THRESHOLD_STEP = 0.001  # thresholds are set and kept in thousandths (sliders, advice)
DEFAULT_COMBINE: CombineMethod = "mean"
PRESET_FORMAT = "bsgbat-gui thresholds"
PRESET_VERSION = 1


class PresetError(Exception):
    """A preset file that cannot be used at all (unreadable, not JSON, not a preset)."""


@dataclass(frozen=True)
class ThresholdSettings:
    """Thresholds by label (scientific name) and the combine method. Labels not listed use
    :data:`DEFAULT_THRESHOLD`.
    """

    thresholds: Mapping[str, float] = field(default_factory=dict)
    combine: CombineMethod = DEFAULT_COMBINE
    excluded: frozenset[str] = frozenset()  # left out of detection (see the module docstring)

    def threshold(self, label: str) -> float:
        """A label's threshold (the default when not set)."""
        return float(self.thresholds.get(label, DEFAULT_THRESHOLD))

    def array_for(self, labels: Sequence[str]) -> npt.NDArray[np.float64]:
        """``[len(labels)]`` thresholds in the model's label order; an excluded species' is
        infinite (no probability reaches it).
        """
        return np.array(
            [math.inf if label in self.excluded else self.threshold(label) for label in labels],
            dtype=np.float64,
        )


@dataclass(frozen=True)
class LoadedPreset:
    """A preset read from JSON, and the problems met (reported, not fatal)."""

    settings: ThresholdSettings
    problems: tuple[str, ...]  # unknown species, bad values: reported, not fatal


def preset_json(settings: ThresholdSettings, labels: Sequence[str]) -> str:
    """The preset text for ``settings``, listing every one of ``labels``."""
    document = {
        "format": PRESET_FORMAT,
        "version": PRESET_VERSION,
        "combine": settings.combine,
        "thresholds": {label: round(settings.threshold(label), 6) for label in labels},
    }
    if settings.excluded:
        document["excluded"] = [label for label in labels if label in settings.excluded]
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def save_preset(path: Path, settings: ThresholdSettings, labels: Sequence[str]) -> None:
    """Write the preset atomically (a crash never leaves half a file). Raises ``OSError``."""
    with AtomicTextFile(path) as f:
        f.write(preset_json(settings, labels))


def parse_preset(text: str, known_labels: Sequence[str]) -> LoadedPreset:
    """Read a preset; species are matched case-insensitively against ``known_labels``.

    Raises :class:`PresetError` when the text is not a preset at all.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PresetError(f"not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if not isinstance(document, dict) or not isinstance(document.get("thresholds"), dict):
        raise PresetError('not a thresholds preset (no "thresholds" object)')
    problems: list[str] = []
    version = document.get("version", PRESET_VERSION)
    if isinstance(version, int) and version > PRESET_VERSION:
        problems.append(f"written by a newer version (format {version}); read as {PRESET_VERSION}")
    combine = document.get("combine", DEFAULT_COMBINE)
    if combine not in COMBINE_METHODS:
        problems.append(
            f"unknown combine method {combine!r}: using {DEFAULT_COMBINE} "
            f"(choose one of {', '.join(COMBINE_METHODS)})"
        )
        combine = DEFAULT_COMBINE
    by_lower = {label.lower(): label for label in known_labels}
    thresholds: dict[str, float] = {}
    for name, value in document["thresholds"].items():
        label = by_lower.get(str(name).strip().lower())
        if label is None:
            problems.append(f"unknown species {name!r}: ignored")
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            problems.append(f"{label}: threshold {value!r} is not a number: using default")
            continue
        if not 0.0 <= value <= 1.0:
            problems.append(f"{label}: threshold {value} is outside 0..1: using default")
            continue
        thresholds[label] = float(value)
    excluded: set[str] = set()
    listed = document.get("excluded", [])
    if not isinstance(listed, list):
        problems.append('"excluded" is not a list of species: ignored')
        listed = []
    for name in listed:
        label = by_lower.get(str(name).strip().lower())
        if label is None:
            problems.append(f"unknown excluded species {name!r}: ignored")
        else:
            excluded.add(label)
    return LoadedPreset(
        ThresholdSettings(thresholds, cast("CombineMethod", combine), frozenset(excluded)),
        tuple(problems),
    )


def load_preset(path: Path, known_labels: Sequence[str]) -> LoadedPreset:
    """:func:`parse_preset` on a file. Raises :class:`PresetError` with the reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PresetError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise PresetError(f"{path}: not a text file") from None
    except OSError as exc:
        raise PresetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        return parse_preset(text, known_labels)
    except PresetError as exc:
        raise PresetError(f"{path}: {exc}") from None
