"""Headless subcommands of ``bsgbat-gui``, one module each (the GUI is :mod:`bsgbat_gui.gui`)."""
