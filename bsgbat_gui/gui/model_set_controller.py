"""Which model set the window analyses with: found at start, downloaded (off the GUI thread) or
chosen by the user; the banner says what is missing or incomplete, never hiding it.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from bsgbat_gui.core.models.locate import (
    ModelSetError,
    locate_model_set,
    read_model_set,
    user_models_dir,
)
from bsgbat_gui.gui.worker import ModelDownloader

if TYPE_CHECKING:
    from collections.abc import Callable

    from bsgbat_gui.gui.models_banner import ModelsBanner
    from bsgbat_gui.gui.settings import AppSettings


class ModelSetController(QObject):
    """The model set in use and how it is found, downloaded or chosen.

    Signals
    -------
    models_installed()
        Another usable model set is in use (downloaded or chosen): analyse what is waiting.
    """

    models_installed = Signal()

    def __init__(
        self,
        banner: ModelsBanner,
        settings: AppSettings,
        *,
        models_dir: Path | None,
        say: Callable[[str], None],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.banner = banner
        self.settings = settings
        self._say = say
        self._parent = parent
        self.models_dir = models_dir or self._remembered_folder()
        self.usable = False  # a model set was found (set by check)
        self.status = ""  # "6 model(s) from …"
        self.downloader = ModelDownloader(self)
        self.download_dialog: QProgressDialog | None = None
        banner.download_requested.connect(self.download)
        banner.choose_requested.connect(self.choose_folder)
        self.downloader.progress.connect(self._download_progress)
        self.downloader.finished.connect(self._download_finished)

    def _remembered_folder(self) -> Path | None:
        folder = self.settings.models_folder
        if folder is None:
            return None
        try:
            read_model_set(folder)
        except ModelSetError:
            return None  # moved or deleted since: look in the usual places instead
        return folder

    def check(self) -> bool:
        """Whether a model set is usable; the banner says what is missing or incomplete."""
        try:
            model_set = locate_model_set(self.models_dir)
        except ModelSetError as exc:
            self.usable = False
            self.show_missing(str(exc))
            return False
        self.usable = True
        self.status = f"{len(model_set.model_paths)} model(s) from {model_set.folder}"
        self._say(f"Model set: {self.status}")
        if model_set.incomplete:  # usable, but not the release's numbers: said, not hidden
            self.banner.show_problem(
                f"<b>Incomplete model set:</b> {html.escape(model_set.incomplete)}"
            )
        return True

    def show_missing(self, reason: str) -> None:
        """The banner: no classifier, what can be done meanwhile, and how to get one."""
        self.usable = False
        self.banner.show_problem(
            "<b>The bat classifier is not installed yet.</b> You can open recordings and look at "
            "their spectrograms now; to have the bat species found, download the BSG-BAT models "
            "once (about 500 MB, free) or choose a folder that already holds them.",
            details=reason,
        )

    def download(self) -> None:
        """Download, verify and install the model set in the user data folder, off the GUI."""
        if self.downloader.is_running:
            return
        dialog = QProgressDialog("Connecting…", "Cancel", 0, 100, self._parent)
        dialog.setWindowTitle("Downloading the BSG-BAT models")
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self.downloader.cancel)
        dialog.show()
        self.download_dialog = dialog
        self.banner.set_busy(True)
        self.downloader.start(user_models_dir(), self.settings.models_base_url)

    def _download_progress(self, done: int, total: int, what: str) -> None:
        if self.download_dialog is None:
            return
        if total > 0:
            self.download_dialog.setRange(0, 1000)
            self.download_dialog.setValue(int(1000 * done / total))
            what = f"{what}: {done / 1e6:.1f} of {total / 1e6:.1f} MB"
        self.download_dialog.setLabelText(what)

    def _download_finished(self, outcome: int, message: str) -> None:
        if self.download_dialog is not None:
            self.download_dialog.close()
            self.download_dialog = None
        self.banner.set_busy(False)
        if outcome == 0:
            self.use(user_models_dir())
        else:
            self.banner.show_problem(f"<b>Model download:</b> {html.escape(message)}")
        self._say(message)

    def choose_folder(self) -> None:
        """Models → Choose model folder…: a folder that holds a model set."""
        start = str(self.models_dir or Path.home())
        chosen = QFileDialog.getExistingDirectory(
            self._parent, "Choose the BSG-BAT model folder", start
        )
        if not chosen:
            return
        try:
            read_model_set(Path(chosen))
        except ModelSetError as exc:
            self.banner.show_problem(f"<b>Not a model folder:</b> {html.escape(str(exc))}")
            return
        self.use(Path(chosen))

    def use(self, folder: Path) -> None:
        """Remember ``folder`` as the model set; when usable, say so (what waits is analysed)."""
        self.settings.models_folder = folder
        self.models_dir = folder
        self.banner.hide()
        if self.check():
            self.models_installed.emit()

    def shutdown(self) -> None:
        """Stop a download under way."""
        self.downloader.shutdown()
