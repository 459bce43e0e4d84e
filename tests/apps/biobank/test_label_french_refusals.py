"""The label core's refusals (framework-free) carry a code and their values; the biobank app
words them in the user's language and leaves the English as the core said it."""

from __future__ import annotations

import pytest
from django.utils.translation import override

from oncotrials.apps.accounts.core_messages import core_errors_translated
from oncotrials.apps.biobank.label_messages import LABEL_MESSAGES
from oncotrials.core.errors import ValidationError
from oncotrials.core.labels import label_svg


@pytest.mark.parametrize(
    ("kwargs", "english", "french"),
    [
        (
            {"data": "SPZ-001", "symbology": "barcode"},
            "Unknown label format 'barcode'; use code128, datamatrix or qr.",
            "Format d’étiquette inconnu 'barcode' ; utilisez code128, datamatrix ou qr.",
        ),
        (
            {"data": "SPZ-é", "symbology": "code128"},
            "Code128 labels take printable ASCII only; 'é' is not. Use a DataMatrix or QR label "
            "for other characters.",
            "Les étiquettes Code128 n’acceptent que l’ASCII imprimable ; 'é' n’en fait pas "
            "partie. Utilisez une étiquette DataMatrix ou QR pour les autres caractères.",
        ),
    ],
)
def test_a_label_refusal_reads_in_french(kwargs, english, french):
    for language, expected in (("en", english), ("fr", french)):
        with (
            override(language),
            pytest.raises(ValidationError) as caught,
            core_errors_translated(LABEL_MESSAGES),
        ):
            label_svg(**kwargs)
        assert caught.value.message == expected
        assert caught.value.code.startswith("labels_")
