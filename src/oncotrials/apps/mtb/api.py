"""API endpoints of the tumour board (mounted at /api/v1/)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["tumour board"])
