"""The shown recording's calls: found in the review store, or measured in the background when
it is shown (never on the GUI thread), kept in the store, shown in the calls panel for the
selected detection (the whole recording when none is) and marked on the spectrogram.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt

from bsgbat_gui.core.session.survey_session import STORE_WRITE_ERRORS
from bsgbat_gui.core.species import species_for_label
from bsgbat_gui.gui.call_settings_dialog import CallSettingsDialog
from bsgbat_gui.gui.worker import CallMeasurer

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from bsgbat_gui.core.audio.recording import RecordingInfo
    from bsgbat_gui.core.calls.settings import CallSettings
    from bsgbat_gui.core.compute.call_jobs import CallsMeasured, CallsProgress
    from bsgbat_gui.core.compute.jobs import LoadedSpectrogram
    from bsgbat_gui.core.session.selection import SelectedEvent
    from bsgbat_gui.core.session.survey_session import SurveySession
    from bsgbat_gui.gui.calls_panel import CallsPanel
    from bsgbat_gui.gui.detections_panel import DetectionsPanel
    from bsgbat_gui.gui.spectrogram_view import SpectrogramView


class CallsController(QObject):
    """Keeps the calls panel (and the spectrogram's call marks) on what the reviewer sees."""

    def __init__(
        self,
        session: SurveySession,
        panel: CallsPanel,
        detections_panel: DetectionsPanel,
        spectrogram_view: SpectrogramView,
        *,
        warn: Callable[[str], None],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.panel = panel
        self.detections_panel = detections_panel
        self.spectrogram_view = spectrogram_view
        self._warn = warn
        self.measurer = CallMeasurer(self)
        self._info: RecordingInfo | None = None  # the shown recording's, once described
        self._dialog: CallSettingsDialog | None = None
        self.measurer.measured.connect(self._measured)
        self.measurer.progressed.connect(self._progressed)
        self.measurer.failed.connect(self._failed)
        detections_panel.event_selected.connect(self._selection_changed)
        panel.call_chosen.connect(self._call_chosen)
        session.calls_changed.connect(self._calls_changed)

    def recording_loaded(self, loaded: LoadedSpectrogram) -> None:
        """The shown recording's spectrogram is there, and with it what the file is: its calls
        from the store, or measured now."""
        if loaded.path != self.session.current_path:
            return
        self._info = loaded.info
        calls = self.session.calls_of(loaded.info)
        if calls is None:
            self._measure(loaded.info)
        self.refresh()

    def _measure(self, info: RecordingInfo) -> None:
        """Measure in the background; the measuring process keeps the calls in the store (the
        committed write is not the window's to wait for)."""
        store = self.session.store if self.session.can_write else None
        self.measurer.request(
            info.path, info.time_expansion, self.session.call_settings,
            store.path if store is not None else None,
        )  # fmt: skip

    def recording_selected(self, path: Path) -> None:
        """Another recording is being loaded: its calls are not these (until it is there)."""
        if self._info is not None and self._info.path == path:
            return
        self._info = None
        self.measurer.cancel()
        self.panel.show_status("Calls: waiting for the recording…")
        self.spectrogram_view.set_calls(None)

    def refresh(self) -> None:
        """Show the calls of the selected detection (or of the whole recording)."""
        info = self._info
        if info is None or info.path != self.session.current_path:
            return
        calls = self.session.held_calls(info.path)  # read from the store when it was shown
        self.spectrogram_view.set_calls(calls)
        selected = self.detections_panel.selected
        if selected is not None and selected.path == info.path:
            code = species_for_label(selected.label).code
            what = f"{code} {selected.start_s:.2f}–{selected.end_s:.2f} s"
            self.panel.show_calls(calls, (selected.start_s, selected.end_s), what)
        else:
            self.panel.show_calls(calls, None, "The whole recording")

    def _selection_changed(self, _event: SelectedEvent) -> None:
        self.refresh()

    def _calls_changed(self, path: Path) -> None:
        if self._info is not None and path == self._info.path:
            self.refresh()

    def _progressed(self, progress: CallsProgress) -> None:
        if self._info is not None and progress.path == self._info.path:
            share = progress.done_s / progress.duration_s if progress.duration_s > 0 else 1.0
            self.panel.show_status(f"Measuring the calls of {progress.path.name}… {share:.0%}")

    def _measured(self, measured: CallsMeasured) -> None:
        problem = measured.store_problem
        try:
            self.session.keep_calls(
                measured.info, measured.settings, measured.calls, measured.content_sha256,
                stored=not problem,
            )  # fmt: skip
        except STORE_WRITE_ERRORS as exc:
            problem = str(exc)
        if problem:
            self._warn(f"The calls were measured but could not be saved: {problem}")

    def _failed(self, path: Path, reason: str) -> None:
        if self._info is not None and path == self._info.path:
            self.panel.show_status(f"The calls of {path.name} cannot be measured: {reason}")

    def _call_chosen(self, start_s: float, end_s: float) -> None:
        margin = max(0.01, 2 * (end_s - start_s))
        self.spectrogram_view.show_span(start_s - margin, end_s + margin)

    def edit_settings(self) -> None:
        """Review → Call measurement settings… (a dialog that does not block the window)."""
        dialog = CallSettingsDialog(
            self.session.call_settings, self.apply_settings, self.panel.window()
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self._dialog = dialog
        dialog.open()

    def apply_settings(self, settings: CallSettings) -> None:
        """Measure with ``settings`` from now on (kept in the store); the shown recording's
        calls are found again with them."""
        try:
            self.session.set_call_settings(settings)
        except STORE_WRITE_ERRORS as exc:
            self._warn(f"The call settings apply now but could not be kept: {exc}")
        info = self._info
        if info is not None and self.session.calls_of(info) is None:
            self._measure(info)
        self.refresh()

    def shutdown(self) -> None:
        """Stop measuring (window closing)."""
        self.measurer.shutdown()
