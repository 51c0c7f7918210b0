"""The one place the window keeps per-species thresholds, visibility and the combine method.

The threshold panel, the threshold lines on the probability track, the event shading and the
detections table all read from and write to a :class:`ThresholdModel`; none keeps its own copy,
so they cannot disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from bsgbat_gui.core.analysis.thresholds import (
    DEFAULT_COMBINE,
    DEFAULT_THRESHOLD,
    THRESHOLD_STEP,
    ThresholdSettings,
)
from bsgbat_gui.core.checklist import outside_survey
from bsgbat_gui.core.model_card import BACKGROUND_LABEL
from bsgbat_gui.core.models.ensemble import COMBINE_METHODS, CombineMethod
from bsgbat_gui.core.species import SPECIES

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np
    import numpy.typing as npt


def _clamped(value: float) -> float:
    return round(min(1.0, max(0.0, float(value))) / THRESHOLD_STEP) * THRESHOLD_STEP


class ThresholdModel(QObject):
    """Thresholds (0..1, default 0.5) and visibility per label, and the combine method.

    Signals
    -------
    threshold_changed(label)
        One label's threshold changed (rows and lines update just that label).
    thresholds_changed()
        Once per user action that changed any threshold (events are recomputed once).
    visibility_changed(label)
    combine_changed(method)
    labels_changed()
        The label list changed (another model set).
    survey_species_changed()
        The survey species list, or the species excluded from detection, changed.
    """

    threshold_changed = Signal(str)
    thresholds_changed = Signal()
    visibility_changed = Signal(str)
    combine_changed = Signal(str)
    labels_changed = Signal()
    survey_species_changed = Signal()

    def __init__(self, labels: Sequence[str] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._labels: tuple[str, ...] = ()
        self._thresholds: dict[str, float] = {}
        self._visible: dict[str, bool] = {}
        self._combine: CombineMethod = DEFAULT_COMBINE
        self._excluded: frozenset[str] = frozenset()
        self.survey_species: tuple[str, ...] | None = None  # None: no survey species list
        self.set_labels(labels if labels is not None else [s.scientific_name for s in SPECIES])

    # -- labels ----------------------------------------------------------------------------

    @property
    def labels(self) -> tuple[str, ...]:
        return self._labels

    def set_labels(self, labels: Sequence[str]) -> None:
        """Use the model set's labels; thresholds and visibility of known labels are kept."""
        labels = tuple(labels)
        if labels == self._labels:
            return
        self._labels = labels
        for label in labels:
            self._thresholds.setdefault(label, DEFAULT_THRESHOLD)
            self._visible.setdefault(label, label != BACKGROUND_LABEL)
        self.labels_changed.emit()
        self.thresholds_changed.emit()

    # -- thresholds ---------------------------------------------------------------------------

    def threshold(self, label: str) -> float:
        return self._thresholds.get(label, DEFAULT_THRESHOLD)

    def set_threshold(self, label: str, value: float) -> None:
        if self._set_one(label, value):
            self.thresholds_changed.emit()

    def _set_one(self, label: str, value: float) -> bool:
        value = _clamped(value)
        if abs(self._thresholds.get(label, DEFAULT_THRESHOLD) - value) < THRESHOLD_STEP / 2:
            return False
        self._thresholds[label] = value
        self.threshold_changed.emit(label)
        return True

    def set_all(self, value: float) -> None:
        """Every species' threshold (Background's is left alone: it is not a species)."""
        changed = [
            self._set_one(label, value) for label in self._labels if label != BACKGROUND_LABEL
        ]
        if any(changed):
            self.thresholds_changed.emit()

    def reset(self) -> None:
        """Every threshold, Background's included, back to the card's 0.5."""
        changed = [self._set_one(label, DEFAULT_THRESHOLD) for label in self._labels]
        if any(changed):
            self.thresholds_changed.emit()

    def thresholds_array(self, labels: Sequence[str] | None = None) -> npt.NDArray[np.float64]:
        """Thresholds in ``labels`` order (default: the model's labels)."""
        return self.settings().array_for(labels or self._labels)

    # -- visibility -----------------------------------------------------------------------

    def is_visible(self, label: str) -> bool:
        return self._visible.get(label, label != BACKGROUND_LABEL)

    def set_visible(self, label: str, visible: bool) -> None:
        if self.is_visible(label) != visible:
            self._visible[label] = visible
            self.visibility_changed.emit(label)

    def visible_labels(self) -> set[str]:
        return {label for label in self._labels if self.is_visible(label)}

    # -- combine --------------------------------------------------------------------------

    @property
    def combine(self) -> CombineMethod:
        return self._combine

    def set_combine(self, method: str) -> None:
        if method not in COMBINE_METHODS:
            raise ValueError(f"unknown combine method {method!r}")
        if method != self._combine:
            self._combine = method
            self.combine_changed.emit(method)

    # -- the survey species list --------------------------------------------------------

    @property
    def excluded(self) -> frozenset[str]:
        """Species left out of detection (they make no event anywhere)."""
        return self._excluded

    def is_excluded(self, label: str) -> bool:
        return label in self._excluded

    def set_excluded(self, labels: set[str] | frozenset[str]) -> None:
        excluded = frozenset(labels)
        if excluded != self._excluded:
            self._excluded = excluded
            for label in self._labels:
                self.threshold_changed.emit(label)  # rows and lines show it
            self.survey_species_changed.emit()
            self.thresholds_changed.emit()

    def set_survey_species(self, species: tuple[str, ...] | None) -> None:
        if species != self.survey_species:
            self.survey_species = species
            self.survey_species_changed.emit()

    def outside_survey(self, label: str) -> bool:
        """Whether the model species ``label`` is missing from the survey species list."""
        if self.survey_species is None:
            return False
        return label in outside_survey([label], self.survey_species)

    # -- presets --------------------------------------------------------------------------

    def settings(self) -> ThresholdSettings:
        return ThresholdSettings(dict(self._thresholds), self._combine, self._excluded)

    def apply(self, settings: ThresholdSettings) -> None:
        """Take a preset's thresholds (labels it does not list get the default), method and
        excluded species."""
        changed = [self._set_one(label, settings.threshold(label)) for label in self._labels]
        if any(changed):
            self.thresholds_changed.emit()
        self.set_combine(settings.combine)
        self.set_excluded(settings.excluded & set(self._labels))
