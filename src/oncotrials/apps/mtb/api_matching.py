"""API endpoints of trial matching (mounted at /api/v1/)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["matching"])
