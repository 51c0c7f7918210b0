"""Help → About: version, what the models are, whose they are and how to cite them."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from bsgbat_gui import __version__

ABOUT_HTML = f"""
<h3>bsgbat-gui {__version__}</h3>
<p>Review bat survey recordings with the BSG-BAT v0.21 ensemble: the 9–150 kHz mel spectrogram
the models see, per-segment species probabilities, verification and export.</p>
<p><b>Models.</b> BSG-BAT v0.21 (six CNN checkpoints, 21 European bat species + Background) by
the <b>bsg-bat team</b>, licensed <b>CC-BY-4.0</b>; converted to ONNX by tphakala
(huggingface.co/tphakala/BSG-BAT).</p>
<p><b>Cite:</b> bsg-bat team (2025). <i>BSG-BAT (v0.21)</i>. Zenodo.
<a href="https://doi.org/10.5281/zenodo.15495676">https://doi.org/10.5281/zenodo.15495676</a></p>
<p>bsgbat-gui itself is MIT-licensed.</p>
"""


def show_about(parent: QWidget) -> None:
    QMessageBox.about(parent, "About bsgbat-gui", ABOUT_HTML)
