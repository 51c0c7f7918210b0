"""Headless subcommands of ``bsgbat-gui`` (one module each); the GUI lives in :mod:`bsgbat_gui.gui`."""
