"""The application's log file: where errors go, in a packaged app too.

A packaged app has no terminal: an exception printed to stderr is lost. The window logs to a
rotating file in the user's log folder (``platformdirs``: ``~/.local/state/bsgbat-gui/log`` on
Linux), at INFO and above, and Help → Open log folder shows it; errors also go to stderr as
before. Headless commands log to stderr only.
"""

from __future__ import annotations

import logging
import logging.handlers
from typing import TYPE_CHECKING

from bsgbat_gui.core.resources import APP_NAME

if TYPE_CHECKING:
    from pathlib import Path

LOG_FILENAME = "bsgbat-gui.log"
LOG_MAX_BYTES = 1 << 20
LOG_BACKUPS = 3
LOG_FORMAT = "%(asctime)s %(levelname)s %(processName)s %(name)s: %(message)s"


def log_folder() -> Path:
    """Where the log files are (the user log folder)."""
    from platformdirs import user_log_path

    return user_log_path(APP_NAME, appauthor=False)


def log_file() -> Path:
    """The current log file."""
    return log_folder() / LOG_FILENAME


def log_to_file(level: int = logging.INFO) -> Path | None:
    """Add a rotating file handler for the whole app to the root logger; returns the file, or
    None when the folder cannot be written (the app goes on, logging to stderr).
    """
    path = log_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=LOG_MAX_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, level))
    return path
