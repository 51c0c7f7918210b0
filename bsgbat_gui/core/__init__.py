"""The Qt-free core, grouped by domain in layers.

Each layer imports only the layers below it:

* ``compute`` — helper processes and their jobs;
* ``export`` | ``evaluation`` — files for other tools | how good the classifier is;
* ``review`` — the review store, the survey, decisions;
* ``analysis`` — running the ensemble on recordings, detections, thresholds;
* ``models`` | ``audio`` — the classifier | reading recordings and spectrograms;
* shared modules at this level (``files``, ``csv_text``, ``model_card``, ``species``,
  ``checklist``, ``resources``, ``app_log``), which import no sub-package.

Nothing here imports PySide6, pyqtgraph or :mod:`bsgbat_gui.gui`. The import-linter contracts
in ``pyproject.toml`` enforce all of this (``tests/core/test_layering.py`` runs them).
"""
