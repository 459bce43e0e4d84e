"""The manager of the change history that django-simple-history keeps of a model.

simple_history builds the class of a model's history manager afresh on every access to
``Model.history`` (``Manager.from_queryset``, which inspects every method of the queryset class),
and every save of a model with history reads it once to write the historical row: about half a
millisecond per save, the same class each time. ``HistoryManager`` builds that class once per
queryset class; the manager itself is still made per access, for its instance.
"""

from __future__ import annotations

from typing import Any

from simple_history.manager import HistoryManager as _SimpleHistoryManager

_BUILT: dict[tuple[type, type, str | None], type] = {}


class HistoryManager(_SimpleHistoryManager):  # type: ignore[misc]
    """simple_history's history manager, whose class is built once (pass it as
    ``HistoricalRecords(history_manager=HistoryManager)``)."""

    @classmethod
    def from_queryset(cls, queryset_class: type, class_name: str | None = None) -> Any:
        key = (cls, queryset_class, class_name)
        built = _BUILT.get(key)
        if built is None:
            built = _BUILT[key] = super().from_queryset(queryset_class, class_name)
        return built
