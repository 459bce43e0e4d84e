"""The label core's refusals in the user's language.

``oncotrials.core.labels`` (no Django there) refuses a specimen label with a stable code and the
values the message names. This is the one place that words them; a code it does not know keeps
the core's English.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from oncotrials.apps.accounts.core_messages import Catalogue

LABEL_MESSAGES: Catalogue = {
    "labels_label_room_lines_under": _(
        "A label has room for %(max_lines)s lines under the code; got %(n_lines)s."
    ),
    "labels_name_label_format_code128": _("Name the label format: code128, datamatrix or qr."),
    "labels_module_mm_wide": _("A module must be 0.1 to 2 mm wide; got %(module_mm)s."),
    "labels_scale_pixels_per_module": _("The scale is 1 to 20 pixels per module; got %(scale)s."),
    "labels_label_needs_content_empty": _("A label needs content; got an empty code."),
    "labels_label_holds_most_characters": _(
        "A label holds at most %(max_length)s characters; got %(n_data)s."
    ),
    "labels_code128_labels_take_printable": _(
        "Code128 labels take printable ASCII only; %(bad)s is not. Use a DataMatrix or QR "
        "label for other characters."
    ),
    "labels_unknown_label_format_use": _(
        "Unknown label format %(symbology)s; use code128, datamatrix or qr."
    ),
    "labels_qr_error_correction_l": _("QR error correction is L, M, Q or H; got %(qr_error)s."),
    "labels_segno_returned_micro_qr": _("segno returned a Micro QR symbol; refusing it."),
}
