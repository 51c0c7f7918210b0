"""Start the Qt application and show the main window (or run the self-test)."""

from __future__ import annotations

import gc
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

    from PySide6.QtWidgets import QApplication


def make_application() -> QApplication:
    """The QApplication, named (settings, desktop entry) and with the app's icon."""
    # PySide6 before pyqtgraph, so pyqtgraph picks this binding.
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication

    from bsgbat_gui import __version__
    from bsgbat_gui.core.resources import APP_ICON_SIZES, ResourceMissing, app_icon_png

    app = QApplication.instance()
    if app is None:
        # Fractional desktop scaling (125 %, 150 %) drawn as it is, not rounded to 100 or 200 %:
        # the spectrogram's pixels stay sharp. Only settable before the application exists.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        app = QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("bsgbat-gui")
    app.setOrganizationName("bsgbat-gui")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("bsgbat-gui")  # matches resources/bsgbat-gui.desktop (Wayland, docks)
    icon = QIcon()
    try:
        for size in APP_ICON_SIZES:
            icon.addFile(str(app_icon_png(size)))
    except ResourceMissing:  # a broken install still opens, without its icon
        pass
    app.setWindowIcon(icon)
    return app


def exempt_startup_objects_from_gc() -> None:
    """Leave the objects that live as long as the app (modules, classes, Qt wrappers, the
    window's widgets) out of every later garbage collection.

    A full collection walks every tracked object: with Qt, pyqtgraph, librosa and the window
    loaded that is ~160,000 objects and 70–120 ms on the GUI thread, and it comes back whenever
    enough new objects (analyses, plot items) have survived — a visible freeze in the middle of
    an analysis. After ``gc.freeze()`` a full collection walks only what was made since.
    Called once, when the window is built; anything collectable is collected first.
    """
    gc.collect()
    gc.freeze()


def run_gui(args: argparse.Namespace) -> int:
    from bsgbat_gui.core.app_log import log_to_file

    log_to_file()  # a packaged app has no terminal: errors must land somewhere
    app = make_application()
    from bsgbat_gui.gui import errors
    from bsgbat_gui.gui.main_window import MainWindow
    from bsgbat_gui.gui.startup_probe import install_from_environment

    window = MainWindow(paths=list(args.paths), models_dir=args.models)
    reporter = errors.install(lambda: window)  # noqa: F841 - kept alive while the app runs
    window.show()
    window.raise_()
    window.activateWindow()  # keyboard focus even where no window manager hands it over
    probe = install_from_environment(window)  # benchmark --startup only  # noqa: F841
    exempt_startup_objects_from_gc()
    return int(app.exec())
