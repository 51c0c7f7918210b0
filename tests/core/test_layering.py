"""The layering: import-linter's contracts (``pyproject.toml``) hold, and every core module
imports with PySide6 and pyqtgraph blocked (what the static contracts cannot see: an import
made by a library the core uses)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import bsgbat_gui.core

PROJECT = Path(__file__).resolve().parents[2]


def test_import_contracts_hold() -> None:
    # In its own process: import-linter configures logging (which would silence the app's).
    code = (
        "import sys\nfrom importlinter.cli import lint_imports\n"
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: 4 kept, 0 broken." in proc.stdout


def test_core_modules_import_without_qt() -> None:
    modules = [m.name for m in pkgutil.walk_packages(bsgbat_gui.core.__path__, "bsgbat_gui.core.")]
    assert len(modules) >= 40
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
