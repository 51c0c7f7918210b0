#!/usr/bin/env bash
# Freeze bsgbat-gui into a one-folder application and smoke-test it:
#   packaging/build.sh            -> dist/bsgbat-gui/bsgbat-gui (run it, or --self-test)
# Needs Python 3.10+ with venv, network access to PyPI (or a mirror) and, on a bare Linux, the
# system libraries Qt needs (the same apt list as .ci/run). Takes ~5-10 minutes; ~0.6-1 GB.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV=build/freeze-venv
export PIP_DISABLE_PIP_VERSION_CHECK=1

echo "== build venv ($VENV): the app as pip installs it, plus PyInstaller"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet . "pyinstaller>=6.10"

echo "== freezing (packaging/bsgbat-gui.spec)"
rm -rf dist/bsgbat-gui
"$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build/pyinstaller packaging/bsgbat-gui.spec

echo "== smoke test of the frozen app"
# Run from another folder with a clean environment: the frozen app must not lean on this
# checkout or on the build venv.
(
  cd "$(mktemp -d)"
  env -i HOME="$HOME" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
    "$OLDPWD/dist/bsgbat-gui/bsgbat-gui" --version
  env -i HOME="$HOME" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
    "$OLDPWD/dist/bsgbat-gui/bsgbat-gui" --self-test
)
echo "== done: dist/bsgbat-gui/ ($(du -sh dist/bsgbat-gui | cut -f1)); run dist/bsgbat-gui/bsgbat-gui"
