"""Data files shipped with bsgbat-gui (installed as the ``bsgbat_gui.resources`` package, see
``pyproject.toml``): icons, the desktop entry and the synthesised demo recording. Found at run
time by :mod:`bsgbat_gui.core.resources`."""
