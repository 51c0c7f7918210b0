#!/usr/bin/env bash
# Add bsgbat-gui to the desktop's application menu (Linux, freedesktop.org): the .desktop entry
# and the icons go into ~/.local/share, with Exec pointing at the given executable.
#   packaging/install-desktop-entry.sh "$(command -v bsgbat-gui)"        # a pip/pipx install
#   packaging/install-desktop-entry.sh "$PWD/dist/bsgbat-gui/bsgbat-gui" # the frozen build
#   packaging/install-desktop-entry.sh --remove
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
APPS="$DATA/applications"
ICONS="$DATA/icons/hicolor"

if [ "${1:-}" = "--remove" ]; then
  rm -f "$APPS/bsgbat-gui.desktop"
  rm -f "$ICONS"/*/apps/bsgbat-gui.png "$ICONS/scalable/apps/bsgbat-gui.svg"
  echo "removed"
  exit 0
fi
EXE="${1:?usage: $0 PATH/TO/bsgbat-gui | --remove}"
EXE="$(realpath "$EXE")"
[ -x "$EXE" ] || { echo "not an executable: $EXE" >&2; exit 1; }

mkdir -p "$APPS" "$ICONS/scalable/apps"
for size in 16 32 48 64 128 256; do
  mkdir -p "$ICONS/${size}x${size}/apps"
  cp resources/icons/bsgbat-gui-$size.png "$ICONS/${size}x${size}/apps/bsgbat-gui.png"
done
cp resources/icons/bsgbat-gui.svg "$ICONS/scalable/apps/bsgbat-gui.svg"
sed -e "s|^Exec=bsgbat-gui|Exec=\"$EXE\"|" -e "s|^TryExec=bsgbat-gui|TryExec=$EXE|" \
  resources/bsgbat-gui.desktop > "$APPS/bsgbat-gui.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$APPS" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q "$ICONS" 2>/dev/null || true
echo "installed $APPS/bsgbat-gui.desktop (Exec=$EXE)"
