"""Start the Qt application and show the main window."""

from __future__ import annotations

import argparse
import sys


def run_gui(args: argparse.Namespace) -> int:
    # PySide6 before pyqtgraph, so pyqtgraph picks this binding.
    from PySide6.QtWidgets import QApplication

    from bsgbat_gui import __version__
    from bsgbat_gui.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("bsgbat-gui")
    app.setOrganizationName("bsgbat-gui")
    app.setApplicationVersion(__version__)
    window = MainWindow(paths=list(args.paths), models_dir=args.models)
    window.show()
    window.raise_()
    window.activateWindow()  # keyboard focus even where no window manager hands it over
    return int(app.exec())
