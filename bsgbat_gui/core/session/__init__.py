"""The open survey as one Qt-free object: :class:`~bsgbat_gui.core.session.survey_session.
SurveySession` holds the recordings and their state, the current recording and the selected
detection, the review store with its decisions, review progress and the survey for export —
everything the window shows, so that tests drive it without a window (the way napari's
``ViewerModel`` carries the state its Qt window only shows). The top layer of the core, beside
``compute``.
"""
