"""Light and dark themes; "system" follows the desktop's colour scheme, also when it changes.

The Fusion style everywhere (it draws the same on every platform and takes a palette whole), with
Fusion's own light palette or a dark one. The spectrogram and track plots are dark in both themes:
a spectrogram reads best on black, and the species colours were chosen against it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

THEME_SYSTEM, THEME_LIGHT, THEME_DARK = "system", "light", "dark"
THEMES = (THEME_SYSTEM, THEME_LIGHT, THEME_DARK)


def system_prefers_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def dark_palette() -> QPalette:
    palette = QPalette()
    window, base, text = QColor(45, 45, 48), QColor(30, 30, 32), QColor(225, 225, 225)
    disabled = QColor(127, 127, 127)
    roles = {
        QPalette.ColorRole.Window: window,
        QPalette.ColorRole.WindowText: text,
        QPalette.ColorRole.Base: base,
        QPalette.ColorRole.AlternateBase: QColor(40, 40, 43),
        QPalette.ColorRole.ToolTipBase: QColor(60, 60, 64),
        QPalette.ColorRole.ToolTipText: text,
        QPalette.ColorRole.PlaceholderText: disabled,
        QPalette.ColorRole.Text: text,
        QPalette.ColorRole.Button: window,
        QPalette.ColorRole.ButtonText: text,
        QPalette.ColorRole.BrightText: QColor(255, 80, 80),
        QPalette.ColorRole.Link: QColor(110, 170, 255),
        QPalette.ColorRole.LinkVisited: QColor(170, 140, 255),
        QPalette.ColorRole.Highlight: QColor(42, 130, 218),
        QPalette.ColorRole.HighlightedText: QColor(255, 255, 255),
        QPalette.ColorRole.Light: QColor(70, 70, 74),
        QPalette.ColorRole.Midlight: QColor(58, 58, 62),
        QPalette.ColorRole.Mid: QColor(40, 40, 43),
        QPalette.ColorRole.Dark: QColor(25, 25, 27),
        QPalette.ColorRole.Shadow: QColor(0, 0, 0),
    }
    for role, colour in roles.items():
        palette.setColor(role, colour)
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    return palette


def is_dark(theme: str) -> bool:
    return theme == THEME_DARK or (theme == THEME_SYSTEM and system_prefers_dark())


def apply_theme(app: QApplication, theme: str) -> None:
    """Use ``theme`` (one of :data:`THEMES`; anything else counts as "system")."""
    style = QStyleFactory.create("Fusion")
    if style is not None and app.style().name().lower() != "fusion":
        app.setStyle(style)
    app.setPalette(dark_palette() if is_dark(theme) else app.style().standardPalette())


class ThemeFollower(QObject):
    """Re-applies the chosen theme when the desktop switches between light and dark."""

    def __init__(self, app: QApplication, theme: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.theme = theme
        apply_theme(app, theme)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._scheme_changed)

    def set_theme(self, theme: str) -> None:
        self.theme = theme
        apply_theme(self.app, theme)

    def _scheme_changed(self, _scheme: Qt.ColorScheme) -> None:
        if self.theme not in (THEME_LIGHT, THEME_DARK):
            apply_theme(self.app, self.theme)
