"""The core's errors in the user's language.

The core (``oncotrials.core``) knows nothing of Django, so its errors carry English text, a
stable ``code`` and the values they name in ``extra``. The app that calls the core keeps, for the
codes a user can meet on a page, a translatable template with the same named placeholders::

    RECIST_MESSAGES = {
        "recist_normal_node": gettext_lazy(
            "Lesion %(lesion_id)s: a lymph node of %(short_axis_mm)s mm short axis ..."
        ),
    }
    with core_errors_translated(RECIST_MESSAGES):
        recist.evaluate_recist(record, options)

The error is raised again with the translated text and the same class, code and ``extra``; a
code the catalogue does not know keeps the core's English. Where one code covers several
wordings (``invalid_criteria``: the file, the path and the value, and why), the error names the
wording in ``extra["reason"]`` and the catalogue is keyed by that reason.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from oncotrials.core.errors import OncotrialsError

#: code -> a translatable template (``gettext_lazy``) with the error's ``extra`` as placeholders
Catalogue = Mapping[str, Any]


def translated(exc: OncotrialsError, catalogue: Catalogue) -> OncotrialsError:
    """``exc`` with its message in the active language, or ``exc`` itself when its code has no
    template (or the template names a value the error does not carry)."""
    reason = exc.extra.get("reason")
    template = catalogue.get(reason) if isinstance(reason, str) else None
    if template is None:
        template = catalogue.get(exc.code)
    if template is None:
        return exc
    try:
        message = str(template) % dict(exc.extra)
    except (KeyError, TypeError, ValueError):
        return exc
    out = copy.copy(exc)
    out.message = message
    out.args = (message,)
    return out


@contextmanager
def core_errors_translated(catalogue: Catalogue) -> Iterator[None]:
    """Raise the core's errors of the block again with their text in the active language."""
    try:
        yield
    except OncotrialsError as exc:
        out = translated(exc, catalogue)
        if out is exc:
            raise
        raise out from exc
