"""Help → About: version, the libraries it runs on, what the models are, whose they are and how
to cite them, the licences. "Copy details" puts the versions on the clipboard for a bug report."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from bsgbat_gui import __version__

LIBRARIES = ("PySide6", "pyqtgraph", "onnxruntime", "librosa", "numpy", "scipy", "soundfile")
MODEL_CITATION = (
    "bsg-bat team (2025). <i>BSG-BAT (v0.21)</i>. Zenodo. "
    '<a href="https://doi.org/10.5281/zenodo.15495676">https://doi.org/10.5281/zenodo.15495676</a>'
)


# Distributions a library can be installed as: PySide6 comes as the PySide6-Essentials wheel
# (the app's dependency), or as the PySide6 meta-package.
DISTRIBUTIONS = {"PySide6": ("PySide6", "PySide6-Essentials", "PySide6_Essentials")}


def _installed(name: str) -> str:
    for distribution in DISTRIBUTIONS.get(name, (name,)):
        try:
            return version(distribution)
        except PackageNotFoundError:
            continue
    return "not found"


def library_versions() -> dict[str, str]:
    """What this copy of the app runs on, read from package metadata (nothing is imported)."""
    versions = {"bsgbat-gui": __version__, "Python": platform.python_version(), "Qt": qVersion()}
    versions.update({name: _installed(name) for name in LIBRARIES})
    try:
        import soundfile

        versions["libsndfile"] = soundfile.__libsndfile_version__
    except (ImportError, OSError, AttributeError):
        versions["libsndfile"] = "not found"
    versions["platform"] = platform.platform()
    return versions


def details_text(versions: dict[str, str]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in versions.items())


def about_html(versions: dict[str, str]) -> str:
    rows = "".join(
        f"<tr><td>{name}</td><td>&nbsp;{value}</td></tr>"
        for name, value in versions.items()
        if name != "bsgbat-gui"
    )
    return f"""
<h3>bsgbat-gui {versions["bsgbat-gui"]}</h3>
<p>Review bat survey recordings with the BSG-BAT v0.21 ensemble: the 9–150 kHz mel spectrogram
the models see, per-segment species probabilities, verification and export.</p>
<p><b>Models.</b> BSG-BAT v0.21 (six CNN checkpoints, 21 European bat species + Background) by
the <b>bsg-bat team</b>, licensed <b>CC-BY-4.0</b>; converted to ONNX by tphakala
(<a href="https://huggingface.co/tphakala/BSG-BAT">huggingface.co/tphakala/BSG-BAT</a>). They are
downloaded separately (Models → Download models…), not part of this program.</p>
<p><b>Cite the models:</b> {MODEL_CITATION}</p>
<p><b>Demo recording:</b> synthesised bat-like calls made for this program (not a real
recording).</p>
<p>bsgbat-gui itself is free software under the <b>MIT licence</b>.</p>
<p><b>Running on</b></p>
<table>{rows}</table>
"""


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About bsgbat-gui")
        self.versions = library_versions()
        icon = QLabel(self)
        icon.setPixmap(QIcon(QGuiApplication.windowIcon()).pixmap(96, 96))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text = QLabel(about_html(self.versions), self)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setOpenExternalLinks(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.text.setMinimumWidth(480)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        self.copy_button = buttons.addButton("Copy details", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.setToolTip("Copy the versions above, e.g. for a bug report")
        self.copy_button.clicked.connect(self.copy_details)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(icon)
        row.addWidget(self.text, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(buttons)

    def copy_details(self) -> None:
        QGuiApplication.clipboard().setText(details_text(self.versions))


def show_about(parent: QWidget) -> AboutDialog:
    dialog = AboutDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()  # not exec(): the window's event loop keeps running
    return dialog
