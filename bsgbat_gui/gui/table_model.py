"""What the window's table models share: a fixed list of column titles over a list of rows."""

from __future__ import annotations

from typing import Any, TypeAlias

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

ModelIndex: TypeAlias = "QModelIndex | QPersistentModelIndex"


class ColumnsTableModel(QAbstractTableModel):
    """A flat table: :attr:`columns` titles, one row per item of :attr:`rows`."""

    columns: tuple[str, ...] = ()
    rows: Any  # a sequence or an array; only its length is used here

    def set_rows(self, rows: Any) -> None:
        """Replace every row (views keep their columns, lose their selection)."""
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        return None
