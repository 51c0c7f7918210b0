"""Persistent settings through QSettings, in one adapter (stable names, never widget indices)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings

from bsgbat_gui.core.analysis.thresholds import (
    PresetError,
    ThresholdSettings,
    parse_preset,
    preset_json,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

MAX_RECENT = 10


class AppSettings:
    def __init__(self, settings: QSettings | None = None) -> None:
        self._s = settings if settings is not None else QSettings("bsgbat-gui", "bsgbat-gui")

    def _get_str(self, key: str, default: str = "") -> str:
        value = self._s.value(key, default)
        return value if isinstance(value, str) else default

    @property
    def colour_map(self) -> str:
        return self._get_str("view/colour_map", "viridis")

    @colour_map.setter
    def colour_map(self, name: str) -> None:
        self._s.setValue("view/colour_map", name)

    @property
    def linear_frequency_axis(self) -> bool:
        """Whether the spectrogram is shown on a linear kHz axis (else the model's mel axis)."""
        return self._get_str("view/frequency_axis", "mel") == "linear"

    @linear_frequency_axis.setter
    def linear_frequency_axis(self, linear: bool) -> None:
        self._s.setValue("view/frequency_axis", "linear" if linear else "mel")

    @property
    def last_folder(self) -> Path | None:
        text = self._get_str("files/last_folder")
        return Path(text) if text else None

    @last_folder.setter
    def last_folder(self, folder: Path) -> None:
        self._s.setValue("files/last_folder", str(folder))

    @property
    def export_folder(self) -> Path | None:
        """Where the last export went (the next export's dialog starts there)."""
        text = self._get_str("files/export_folder")
        return Path(text) if text else None

    @export_folder.setter
    def export_folder(self, folder: Path) -> None:
        self._s.setValue("files/export_folder", str(folder))

    @property
    def recent(self) -> list[Path]:
        """Recently opened folders and recordings, the latest first (older settings kept
        folders only, under another key: they are read too)."""
        paths = self._get_list("files/recent") or self._get_list("files/recent_folders")
        return [Path(x) for x in paths]

    def add_recent(self, path: Path) -> None:
        others = [p for p in self.recent if p != path]
        self._s.setValue("files/recent", [str(p) for p in [path, *others][:MAX_RECENT]])

    def clear_recent(self) -> None:
        self._s.setValue("files/recent", [])
        self._s.remove("files/recent_folders")

    @property
    def theme(self) -> str:
        """ "system", "light" or "dark" (see :mod:`bsgbat_gui.gui.theme`)."""
        return self._get_str("view/theme", "system")

    @theme.setter
    def theme(self, name: str) -> None:
        self._s.setValue("view/theme", name)

    @property
    def models_folder(self) -> Path | None:
        """The model-set folder the user chose or downloaded to (None: look in the usual places)."""
        text = self._get_str("models/folder")
        return Path(text) if text else None

    @models_folder.setter
    def models_folder(self, folder: Path) -> None:
        self._s.setValue("models/folder", str(folder))

    @property
    def models_base_url(self) -> str:
        """Where **Download models** fetches from (a mirror can be set in the settings file)."""
        from bsgbat_gui.core.models.download import DEFAULT_BASE_URL

        return self._get_str("models/base_url", DEFAULT_BASE_URL)

    def threshold_settings(self, labels: Sequence[str]) -> ThresholdSettings | None:
        """The thresholds and combine method in use when the app last ran (None: never set)."""
        text = self._get_str("thresholds/preset")
        if not text:
            return None
        try:
            return parse_preset(text, labels).settings
        except PresetError:
            return None

    def set_threshold_settings(self, settings: ThresholdSettings, labels: Sequence[str]) -> None:
        self._s.setValue("thresholds/preset", preset_json(settings, labels))

    @property
    def hidden_labels(self) -> list[str]:
        return self._get_list("thresholds/hidden")

    @property
    def shown_labels(self) -> list[str]:
        return self._get_list("thresholds/shown")

    def set_label_visibility(self, *, hidden: list[str], shown: list[str]) -> None:
        self._s.setValue("thresholds/hidden", hidden)
        self._s.setValue("thresholds/shown", shown)

    def _get_list(self, key: str) -> list[str]:
        value = self._s.value(key, [])
        items: list[object] = [value] if isinstance(value, str) else list(value or [])  # type: ignore[call-overload]
        return [x for x in items if isinstance(x, str) and x]

    @property
    def reviewer(self) -> str:
        """The name saved with every review decision (default: the login name)."""
        import getpass

        try:
            default = getpass.getuser()
        except (OSError, KeyError):  # no login name (some containers): leave it empty
            default = ""
        return self._get_str("review/reviewer", default)

    @reviewer.setter
    def reviewer(self, name: str) -> None:
        self._s.setValue("review/reviewer", name)

    def geometry(self, key: str) -> QByteArray | None:
        value = self._s.value(f"window/{key}")
        return value if isinstance(value, QByteArray) else None

    def set_geometry(self, key: str, value: QByteArray) -> None:
        self._s.setValue(f"window/{key}", value)

    def sync(self) -> None:
        self._s.sync()
