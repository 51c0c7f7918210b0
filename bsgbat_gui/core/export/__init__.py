"""Files for other tools: the ``analyze`` CSVs, the survey's export formats (CSV, Raven,
Audacity, Kaleidoscope, BriteKit, summary) and GUANO write-back of review results. Built on
:mod:`~bsgbat_gui.core.review`.
"""
