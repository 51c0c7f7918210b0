"""Review → Review a sample…: draw a stratified verification sample of the detections and queue
it for review from the keyboard.

The sample (per species × maximum-probability bin, the size the user chooses, reproducible
with the seed shown) is drawn by :func:`~bsgbat_gui.core.evaluation.sampling.
draw_sample_of_events` from the window's event arrays at the current thresholds (the sample
``draw_sample`` gives the report's rows; a season's million events are not made into rows),
kept in the review store (replacing an earlier one), and shown in the detections table through
its "In the sample" and "Unreviewed only" filters: the usual keys (Right / Left next and
previous, A confirm, R reject, L relabel) then walk it.
The survey report weighs the sample's decisions back to every detection (precision with its
interval, estimated true passes). A preview table says, before drawing, how many detections
each stratum holds and how many the sample will take.
"""

from __future__ import annotations

import itertools
import random
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bsgbat_gui.core.evaluation.sampling import (
    DEFAULT_SAMPLE_EDGES,
    SampleError,
    check_edges,
    draw_sample_of_events,
    event_strata,
)
from bsgbat_gui.core.session.survey_session import STORE_WRITE_ERRORS

if TYPE_CHECKING:
    from collections.abc import Sequence

    from bsgbat_gui.core.analysis.detections import SurveyDetections
    from bsgbat_gui.core.evaluation.sampling import VerificationSample
    from bsgbat_gui.gui.main_window import MainWindow

DEFAULT_PER_STRATUM = 20


def parse_edges(text: str) -> tuple[float, ...]:
    """Bin edges typed as numbers separated by commas or spaces. Raises SampleError."""
    parts = text.replace(",", " ").split()
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise SampleError(f"probability bins: not numbers: {text!r}") from None
    return check_edges(values)


def edges_text(edges: Sequence[float]) -> str:
    return ", ".join(f"{e:g}" for e in edges)


class SampleDialog(QDialog):
    """Signals
    -------
    drawn(sample)
        The user drew a sample (a :class:`VerificationSample`): keep it and review it.
    """

    drawn = Signal(object)

    def __init__(
        self,
        detections: SurveyDetections,
        labels: tuple[str, ...],
        current: VerificationSample | None,
        decided_in_current: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Review a sample of the detections")
        self.detections, self.labels = detections, labels
        self._sizes: tuple[tuple[float, ...], dict[str, list[int]]] | None = None
        self.sample: VerificationSample | None = None
        intro = QLabel(
            "When a survey is too large to review entirely, review a random sample of each "
            "species' detections, drawn separately from each band of the model's probability. "
            "The survey report then estimates each species' precision, with its 95 % "
            "interval, for all its detections.",
            self,
        )
        intro.setWordWrap(True)
        self.per_stratum = QSpinBox(self)
        self.per_stratum.setRange(1, 10_000)
        self.per_stratum.setValue(current.per_stratum if current else DEFAULT_PER_STRATUM)
        self.per_stratum.setToolTip("How many detections to draw from each species × bin")
        self.edges = QLineEdit(edges_text(current.edges if current else DEFAULT_SAMPLE_EDGES))
        self.edges.setToolTip("Bin edges of the maximum probability, from low to high")
        self.seed = QSpinBox(self)
        self.seed.setRange(0, 2**31 - 1)
        # A new seed each time, shown and kept with the sample: the same seed and settings on
        # the same detections draw the same sample again.
        self.seed.setValue(random.randrange(1, 1_000_000))
        self.seed.setToolTip("The same seed and settings draw the same sample again")
        form = QFormLayout()
        form.addRow("Detections per species and bin:", self.per_stratum)
        form.addRow("Probability bins:", self.edges)
        form.addRow("Seed:", self.seed)
        self.table = QTableWidget(self)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.summary = QLabel(self)
        self.summary.setWordWrap(True)
        existing = ""
        if current is not None:
            existing = (
                f"A sample of {len(current.keys)} detections (seed {current.seed}, "
                f"drawn {current.created_at or 'earlier'}) is queued; {decided_in_current} of "
                "them are decided. Drawing again replaces it (decisions stay)."
            )
        self.existing = QLabel(existing, self)
        self.existing.setWordWrap(True)
        self.existing.setVisible(bool(existing))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, parent=self)
        self.draw_button = buttons.addButton(
            "Draw and review", QDialogButtonBox.ButtonRole.AcceptRole
        )
        buttons.accepted.connect(self._draw)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.existing)
        layout.addWidget(buttons)
        self.per_stratum.valueChanged.connect(self._preview)
        self.edges.textChanged.connect(self._preview)
        self.resize(640, 520)
        self._preview()

    def _stratum_sizes(self, edges: tuple[float, ...]) -> dict[str, list[int]]:
        """Per species, its detections in each bin; found again only when the bins change (a
        season's million events are sorted into strata once, not at every size typed)."""
        if self._sizes is None or self._sizes[0] != edges:
            counts: dict[str, list[int]] = {}
            for (name, k), members in event_strata(self.detections, self.labels, edges):
                counts.setdefault(name, [0] * (len(edges) - 1))[k] = len(members)
            self._sizes = (edges, counts)
        return self._sizes[1]

    def _preview(self) -> None:
        """Per species (rows) and bin (columns): "sampled of detections"."""
        try:
            edges = parse_edges(self.edges.text())
        except SampleError as exc:
            self.summary.setText(f"⚠ {exc}")
            self.draw_button.setEnabled(False)
            return
        per = self.per_stratum.value()
        counts = self._stratum_sizes(edges)
        species = sorted(counts)
        self.table.clear()
        self.table.setRowCount(len(species))
        self.table.setColumnCount(len(edges) - 1)
        self.table.setHorizontalHeaderLabels([f"{a:g}–{b:g}" for a, b in itertools.pairwise(edges)])
        self.table.setVerticalHeaderLabels(species)
        total = drawn = 0
        for r, name in enumerate(species):
            for c, n in enumerate(counts[name]):
                take = min(per, n)
                total, drawn = total + n, drawn + take
                item = QTableWidgetItem(f"{take} of {n}" if n else "–")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(r, c, item)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        if not total:
            self.summary.setText("No detections at the current thresholds: nothing to sample.")
        else:
            self.summary.setText(
                f"The sample will hold {drawn:,} of {total:,} detections at the current "
                "thresholds (cells: sampled of detections)."
            )
        self.draw_button.setEnabled(bool(total))

    def _draw(self) -> None:
        try:
            sample = draw_sample_of_events(
                self.detections,
                self.labels,
                per_stratum=self.per_stratum.value(),
                seed=self.seed.value(),
                edges=parse_edges(self.edges.text()),
            )
        except SampleError as exc:
            self.summary.setText(f"⚠ {exc}")
            return
        self.sample = sample
        self.drawn.emit(sample)
        self.accept()


class SampleReviewer(QObject):
    """Review → Review a sample…: opens the dialog on the window's detections, keeps the
    sample drawn in the session's store and shows it in the detections table."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: SampleDialog | None = None

    def open(self) -> None:
        """Open the dialog (non-blocking); says why not when there is nothing to sample."""
        w, session = self.window, self.window.session
        if not session.can_write:
            w.status_label.setText(
                "No sample: the review store is not writable here ("
                + (session.store_problem or "read-only")
                + "); the sample is kept in it"
            )
            return
        w.refresh_detections()  # the events at the thresholds shown now, not a burst ago
        detections = session.detections
        if detections is None or not len(detections.paths):
            w.status_label.setText("No sample yet: no recording of this survey is analysed.")
            return
        mask = session.sample_mask()
        decided = 0 if mask is None else int((mask & (session.attached >= 0)).sum())
        self.dialog = SampleDialog(detections, session.labels, session.sample, decided, w)
        self.dialog.drawn.connect(self._drawn)
        self.dialog.setModal(False)
        self.dialog.show()

    def _drawn(self, sample: VerificationSample) -> None:
        w = self.window
        try:
            w.session.keep_sample(sample)
        except STORE_WRITE_ERRORS as exc:
            w.status_label.setText(f"⚠ The sample was not kept: {exc}")
            return
        w.refresh_detections()
        w.detections_panel.show_sample()
        w.detections_panel.table.setFocus()
        w.status_label.setText(
            f"Sample of {len(sample.keys)} detections queued (seed {sample.seed}): Right for the "
            "next, A confirm, R reject, L relabel; the survey report estimates precision from them"
        )
