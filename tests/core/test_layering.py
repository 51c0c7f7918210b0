"""`core` never imports Qt: import every core module with PySide6 and pyqtgraph blocked."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import bsgbat_gui.core


def test_core_modules_import_without_qt() -> None:
    modules = [m.name for m in pkgutil.iter_modules(bsgbat_gui.core.__path__, "bsgbat_gui.core.")]
    assert len(modules) >= 8
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'):\n"
        "            raise ImportError('Qt imported from core: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n" + "".join(f"import {m}\n" for m in modules)
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_no_print_in_library_code() -> None:
    import ast
    from pathlib import Path

    package = Path(bsgbat_gui.core.__file__).parent.parent
    offenders = []
    for path in package.rglob("*.py"):
        offenders.extend(
            f"{path}:{node.lineno}"
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "print"
        )
    assert offenders == []
