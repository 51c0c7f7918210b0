"""Render resources/icons/bsgbat-gui.svg to the PNG sizes desktops and PyInstaller want.

Run from the repository root: ``QT_QPA_PLATFORM=offscreen python packaging/make_icons.py``.
Writes ``resources/icons/bsgbat-gui-{16,32,48,64,128,256}.png``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZES = (16, 32, 48, 64, 128, 256)


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(ICONS / "bsgbat-gui.svg"))
    if not renderer.isValid():
        sys.stderr.write("bsgbat-gui.svg cannot be read\n")
        return 1
    for size in SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        out = ICONS / f"bsgbat-gui-{size}.png"
        if not image.save(str(out)):
            sys.stderr.write(f"cannot write {out}\n")
            return 1
        sys.stdout.write(f"wrote {out}\n")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
