"""Analysing recordings with the ensemble: per-segment logits, the batch pipeline, detection
events and per-species thresholds. Built on :mod:`~bsgbat_gui.core.audio` and
:mod:`~bsgbat_gui.core.models`.
"""
