"""Tumour-board meetings, cases, recommendations and referrals."""

from __future__ import annotations
