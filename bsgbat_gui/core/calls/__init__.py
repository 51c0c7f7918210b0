"""Bat calls measured in a recording: time–frequency events found above each frequency's noise
floor, with their parameters in true units (time expansion undone). Built on
:mod:`~bsgbat_gui.core.audio`; the review and the exports use it.
"""
