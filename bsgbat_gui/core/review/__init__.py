"""What a reviewer decides and what must never be lost: the review store (schema, decisions,
the analysis cache, where stores live), the survey it holds, decision import and review
navigation. Built on :mod:`~bsgbat_gui.core.analysis`.
"""
