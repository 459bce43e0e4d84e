"""Form widgets shared by the apps' pages."""

from __future__ import annotations

from typing import Any

from django import forms

ISO_DATE = "%Y-%m-%d"


class IsoDateInput(forms.DateInput):
    """``<input type="date">`` whose value is always ``YYYY-MM-DD``.

    Browsers accept nothing else in a date input; Django's default would render the active
    language's format (``06/12/2026`` in French) and the field would show empty.
    """

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=ISO_DATE)
