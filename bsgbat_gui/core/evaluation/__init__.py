"""How good the classifier is: reference annotations, detection metrics against them, and
reliability (calibration) from reviewed decisions. Built on :mod:`~bsgbat_gui.core.review`.
"""
