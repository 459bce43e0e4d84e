"""API endpoints of the crfs app (mounted at /api/v1/)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["crfs"])
