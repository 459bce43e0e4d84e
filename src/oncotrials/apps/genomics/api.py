"""API endpoints of the genomics app (mounted at /api/v1/)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["genomics"])
