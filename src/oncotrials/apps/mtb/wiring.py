"""How the tumour board plugs into the apps below it, connected once from ``MtbConfig.ready``.

The genomics resistance atlas links each patient to their latest tumour-board case.
"""

from __future__ import annotations

from oncotrials.apps.genomics.selectors import case_link_provider_register

from .selectors import latest_case_links


def connect() -> None:
    case_link_provider_register(latest_case_links)
