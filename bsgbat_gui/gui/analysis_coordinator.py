"""The analysis of the open recordings, as the window runs it: started once the shown
recording's picture is in, results written into the session as they come, the survey-wide
refresh paced to bursts of results, cancelling, and what the status bar says about it.

The work itself runs in a helper process (:class:`~bsgbat_gui.gui.worker.AnalysisController`);
the state it produces is the session's
(:class:`~bsgbat_gui.core.session.survey_session.SurveySession`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from superqt.utils import QSignalDebouncer, QSignalThrottler, qdebounced

from bsgbat_gui.core.session.recordings import STATUS_DONE, STATUS_FAILED
from bsgbat_gui.gui.worker import AnalysisController, Recombiner

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import numpy as np
    import numpy.typing as npt
    from PySide6.QtWidgets import QProgressBar, QPushButton

    from bsgbat_gui.core.analysis.analyse import (
        RecordingAnalysed,
        RecordingAnalysis,
        RecordingFailed,
        RecordingStarted,
        SegmentsAnalysed,
    )
    from bsgbat_gui.core.analysis.stacked import AnalysisBlock
    from bsgbat_gui.core.session.survey_session import SurveySession
    from bsgbat_gui.gui.model_set_controller import ModelSetController

ANALYSIS_START_DELAY_MS = 400  # at most, after opening: see AnalysisCoordinator.start
# Analyses arriving faster than this are shown in the survey-wide views (detections table,
# species column) together: each refresh costs O(recordings) on the GUI thread.
SURVEY_REFRESH_MIN_INTERVAL_MS = 250
RECOMBINE_RETRY_MS = 100  # while a recombination's thread is still ending


class AnalysisCoordinator(QObject):
    """Runs the analysis of the session's recordings and paces what follows from its results.

    Signals
    -------
    survey_refresh_wanted()
        New results: find the detection events again (once per burst, at most every
        ``SURVEY_REFRESH_MIN_INTERVAL_MS``).
    current_analysed()
        The shown recording's analysis arrived: draw its tracks (in a pass of their own).
    analysis_added(labels: tuple[str, ...])
        A result (or a block of them from the store), as it arrives: the model set's labels
        are known from the first.
    """

    survey_refresh_wanted = Signal()
    current_analysed = Signal()
    analysis_added = Signal(object)

    def __init__(
        self,
        session: SurveySession,
        model_sets: ModelSetController,
        progress_bar: QProgressBar,
        cancel_button: QPushButton,
        *,
        say: Callable[[str], None],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.model_sets = model_sets
        self.progress_bar = progress_bar
        self.cancel_button = cancel_button
        self._say = say
        self.worker = AnalysisController(self, models_dir=model_sets.models_dir)
        self._waiting: list[Path] | None = None  # see start
        self._start_waiting_soon = qdebounced(
            self.start_waiting, timeout=ANALYSIS_START_DELAY_MS, parent=self
        )
        # Analyses arrive in bursts (one inference batch spans several short files, and every
        # queued result is delivered in one event-loop pass): they are only collected as they
        # come; the shown recording's tracks are drawn in a pass of their own, and the
        # survey-wide work (events, tables, shading, export preview) runs once per burst, after
        # the pass, and at most every SURVEY_REFRESH_MIN_INTERVAL_MS, so no single pass grows
        # with the size of the burst and a fast analysis of thousands of short files does not
        # spend the GUI thread re-deriving the whole survey after every file: a 0 ms debounce
        # (after the pass) feeding a throttle (its leading edge at once, then at most one per
        # interval). Signal objects, since wrapping one qthrottled callable in another does
        # not work (functools.wraps copies the inner one's state onto the outer one).
        self._survey_throttle = QSignalThrottler(parent=self)  # leading edge by default
        self._survey_throttle.setTimeout(SURVEY_REFRESH_MIN_INTERVAL_MS)
        self._survey_throttle.triggered.connect(self.survey_refresh_wanted)
        self._after_pass = QSignalDebouncer(parent=self)
        self._after_pass.setTimeout(0)
        self._after_pass.triggered.connect(self._survey_throttle.throttle)
        self._current_after_pass = qdebounced(self._current_analysed, timeout=0, parent=self)
        worker = self.worker
        worker.started.connect(self._started)
        worker.progress.connect(self._progress)
        worker.analysed.connect(self._analysed)
        worker.analysed_block.connect(self._analysed_block)
        worker.failed.connect(self._failed)
        worker.model_set_failed.connect(self._model_set_failed)
        worker.finished.connect(self._finished)
        cancel_button.clicked.connect(self.cancel)
        # A combine method change for analyses held only as probabilities (read from the
        # store): their logits are read again, in the background; taken all at once at the end.
        self.recombiner = Recombiner(self)
        self.recombiner.block_done.connect(self._recombined_block)
        self.recombiner.progress.connect(self._recombine_progress)
        self.recombiner.finished.connect(self._recombined)
        self._recombined_blocks: list[tuple[int, int, str, npt.NDArray[np.float32]]] = []
        self._given_up: tuple[int, str] | None = None  # a recombination that could not finish
        self._recombining: tuple[int, str] | None = None  # the running one's (generation, method)
        self._recombine_retry = False  # a retry is scheduled
        self._closing = False

    @property
    def busy(self) -> bool:
        """An analysis run is going on or about to start."""
        return self._waiting is not None or self.worker.is_running

    def start(self, recordings: list[Path]) -> None:
        """Analyse ``recordings``: queued now, started once the shown recording's spectrogram
        is in (:meth:`start_waiting`) or after ``ANALYSIS_START_DELAY_MS``.

        The shown recording's spectrogram first, then the analysis: both read and transform the
        same file, and on a two-core laptop running them together can double the time to the
        first picture.
        """
        self.session.queue(recordings)
        self.progress_bar.setRange(0, len(recordings))
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.cancel_button.show()
        self.worker.cancel()
        self._waiting = recordings
        self._start_waiting_soon()

    def start_waiting(self) -> None:
        """Start the analysis that waits for the first picture (nothing when none waits)."""
        self._start_waiting_soon.cancel()
        recordings, self._waiting = self._waiting, None
        if recordings is None:
            return
        store = self.session.store
        self.worker.start(
            recordings,
            models_dir=self.model_sets.models_dir,
            store_path=store.path if store is not None and not store.read_only else None,
            combine=self.session.analyses.combine,
        )
        if self.session.current_path is not None:
            self.worker.prioritise(self.session.current_path)
        if not self.worker.is_ready and self.model_sets.usable:
            # Said, so a wait has a reason: the helper loads the six models once per start.
            self._say(
                "Loading the BSG-BAT models for the analysis (once per start)… spectrograms "
                "and results already analysed are shown meanwhile" + self.session.not_opened_text()
            )

    def prioritise(self, path: Path) -> None:
        """Analyse ``path`` next (the recording the user is looking at)."""
        self.worker.prioritise(path)

    def cancel(self) -> None:
        """Stop the analysis after the current batch; what is left is "not analysed"."""
        self._waiting = None
        self._start_waiting_soon.cancel()
        self.worker.cancel()
        self._hide_progress()
        self._say("Analysis cancelled")

    def shutdown(self) -> None:
        """Stop the helper (the window closes)."""
        self._waiting = None
        self._start_waiting_soon.cancel()
        self.worker.shutdown()
        self._closing = True
        self.recombiner.shutdown()

    # -- another combine method for analyses read from the store ------------------------------

    def recombine_if_wanted(self) -> None:
        """Start reading the stored logits of the analyses not yet combined by the current
        method (one run at a time: a later change is taken when this one finishes)."""
        wanted = self.session.analyses.recombination_wanted()
        store = self.session.store
        if wanted is None or store is None or self._closing:
            return
        if self._given_up == (wanted.generation, wanted.method):
            return  # said once; asked again after another opening or method
        if self.recombiner.is_running:
            if self._recombining != (wanted.generation, wanted.method):
                self.recombiner.cancel()  # for an older method or survey
            # Blocks that arrived since are taken by a run after this one (or its thread is
            # ending): asked again soon, once.
            if not self._recombine_retry:
                self._recombine_retry = True
                QTimer.singleShot(RECOMBINE_RETRY_MS, self._retry_recombine)
            return
        self._recombined_blocks = []
        self._recombining = (wanted.generation, wanted.method)
        self.recombiner.start(store.path, wanted)
        self._recombine_progress(0, wanted.n_recordings)

    def _retry_recombine(self) -> None:
        self._recombine_retry = False
        self.recombine_if_wanted()

    def _recombined_block(
        self, generation: int, index: int, method: str, probs: npt.NDArray[np.float32]
    ) -> None:
        self._recombined_blocks.append((generation, index, method, probs))

    def _recombine_progress(self, done: int, total: int) -> None:
        method = self.session.analyses.combine
        self._say(
            f"Combining the stored analyses by {method}: {done:,} of {total:,} recordings… "
            "(until then, their detections are by the previous method)"
        )

    def _recombined(self, problem: str) -> None:
        analyses = self.session.analyses
        for generation, index, method, probs in self._recombined_blocks:
            analyses.set_recombined(generation, index, method, probs)
        taken, self._recombined_blocks = bool(self._recombined_blocks), []
        if self._closing:
            return
        if problem:
            self._given_up = (analyses.generation, analyses.combine)
            self._say(f"⚠ Not every stored analysis was combined again: {problem}")
        elif analyses.is_combined_throughout:
            self._say(f"Every analysis combined by {analyses.combine}")
        if taken:
            self.survey_refresh_wanted.emit()  # which asks again for what is still wanted
        elif not problem:
            self.recombine_if_wanted()

    def add_analysis(self, analysis: RecordingAnalysis, *, from_cache: bool = False) -> None:
        """Take a recording's analysis: its row now; its tracks and detection events (with
        every other analysis of the same burst) once the current event-loop pass is over."""
        self.session.add_analysis(analysis, from_cache=from_cache)
        self.analysis_added.emit(analysis.labels)
        if analysis.info.path == self.session.current_path:
            self._current_after_pass()  # its tracks do not wait for the survey's refresh
        self._after_pass.throttle()

    def add_block(self, block: AnalysisBlock) -> None:
        """Take a block of analyses read from the review store (see :meth:`add_analysis`)."""
        self.session.add_block(block, from_cache=True)
        self.analysis_added.emit(block.labels)
        current = self.session.current_path
        if current is not None and current in block.paths:
            self._current_after_pass()  # its tracks do not wait for the survey's refresh
        self._after_pass.throttle()

    def _current_analysed(self) -> None:
        self.current_analysed.emit()

    # -- the worker's reports ------------------------------------------------------------------

    def _is_current_run(self, run_id: int) -> bool:
        return run_id == self.worker.run_id

    def _started(self, run_id: int, event: RecordingStarted) -> None:
        if self._is_current_run(run_id):
            self.session.started(event.path, event.info)

    def _progress(self, run_id: int, event: SegmentsAnalysed) -> None:
        if self._is_current_run(run_id):
            self.session.progressed(event.path, event.done / event.total)

    def _analysed(self, run_id: int, event: RecordingAnalysed) -> None:
        if not self._is_current_run(run_id):
            return
        self.progress_bar.setValue(self.progress_bar.value() + 1)
        self.add_analysis(event.analysis, from_cache=event.from_cache)

    def _analysed_block(self, run_id: int, block: AnalysisBlock) -> None:
        if not self._is_current_run(run_id):
            return
        self.progress_bar.setValue(self.progress_bar.value() + len(block))
        self.add_block(block)

    def _failed(self, run_id: int, event: RecordingFailed) -> None:
        if self._is_current_run(run_id):
            self.session.failed(event.path, event.reason)
            self.progress_bar.setValue(self.progress_bar.value() + 1)

    def _model_set_failed(self, run_id: int, message: str) -> None:
        if self._is_current_run(run_id):
            self.model_sets.show_missing(message)
            self._mark_unanalysed()

    def _finished(self, run_id: int, cancelled: int) -> None:
        if not self._is_current_run(run_id):
            return
        self._hide_progress()
        recordings = self.session.recordings
        done, failed = recordings.count(STATUS_DONE), recordings.count(STATUS_FAILED)
        if not self.model_sets.usable and not done:
            self._say(
                "Spectrograms only: no species analysis, the bat classifier is not installed"
                + self.session.not_opened_text()
            )
            return
        state = "cancelled" if cancelled else "finished"
        self._say(
            f"Analysis {state}: {done} analysed, {failed} failed" + self.session.not_opened_text()
        )

    def _hide_progress(self) -> None:
        self.progress_bar.hide()
        self.cancel_button.hide()
        self._mark_unanalysed()

    def _mark_unanalysed(self) -> None:
        self.session.mark_unanalysed("" if self.model_sets.usable else "no classifier installed")
