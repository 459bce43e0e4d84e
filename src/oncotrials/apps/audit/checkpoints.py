"""Signed checkpoints of the audit chains, kept outside the database.

A checkpoint is a JSON file naming, for every partition, the sequence number and seal of its
head at a moment when the whole trail verified, signed with Ed25519. Whoever can write to the
database but not to the checkpoint directory (or does not hold the signing key) cannot remove a
tail, rewrite a history or drop a partition without ``audit verify`` noticing: the events the
checkpoints name must still be there with the seals they signed. Each checkpoint also names the
SHA-256 of the previous file, so that removing one in the middle is noticed too.

The signing key is ``settings.AUDIT_SIGNING_KEY_FILE`` (PEM, Ed25519) or, by default, derived
from the current audit key; a checkpoint is trusted when signed by the key file's key or by the
key derived from any key of the audit keyring.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

from . import sealing

FORMAT = "oncotrials-audit-checkpoint/1"


class CheckpointError(Exception):
    def __init__(self, message: str, status: str = "unverifiable") -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Checkpoint:
    name: str
    created_at: str
    partitions: dict[str, tuple[int, str]]
    events: int
    sha256: str  # of the file, named by the next checkpoint


def checkpoint_dir() -> Path | None:
    path: Path | None = settings.AUDIT_CHECKPOINT_DIR
    return path


def _derived_key(secret: bytes) -> Ed25519PrivateKey:
    seed = hmac.new(secret, b"oncotrials-audit-checkpoint-signing", hashlib.sha256).digest()
    return Ed25519PrivateKey.from_private_bytes(seed)


def signing_key() -> Ed25519PrivateKey:
    path = settings.AUDIT_SIGNING_KEY_FILE
    if path:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise CheckpointError(f"{path} is not an Ed25519 private key.")
        return key
    return _derived_key(sealing.current_key()[1])


def _raw(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def trusted_keys() -> dict[str, Ed25519PublicKey]:
    keys = [_derived_key(secret).public_key() for secret in sealing.keyring_ids().values()]
    if settings.AUDIT_SIGNING_KEY_FILE:
        keys.append(signing_key().public_key())
    return {_raw(k): k for k in keys}


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("checkpoint-*.json") if p.is_file())


def checkpoints_load() -> list[Checkpoint]:
    """Every checkpoint of the directory, oldest first, each signature and link checked."""
    directory = checkpoint_dir()
    if directory is None or not directory.is_dir():
        return []
    trusted = trusted_keys()
    loaded: list[Checkpoint] = []
    previous = ""
    for path in _files(directory):
        raw = path.read_bytes()
        try:
            doc = json.loads(raw)
            body, public, signature = doc["checkpoint"], doc["public_key"], doc["signature"]
        except (ValueError, KeyError, TypeError):
            raise CheckpointError(f"checkpoint {path.name} is not readable", "tampered") from None
        key = trusted.get(public)
        if key is None:
            raise CheckpointError(
                f"checkpoint {path.name} is signed by a key this installation does not trust "
                "(ONCOTRIALS_AUDIT_SIGNING_KEY_FILE, audit keyring)"
            )
        try:
            key.verify(bytes.fromhex(signature), sealing.canonical(body))
        except (InvalidSignature, ValueError):
            raise CheckpointError(
                f"checkpoint {path.name} does not match its signature", "tampered"
            ) from None
        if body.get("format") != FORMAT:
            raise CheckpointError(f"checkpoint {path.name} has an unknown format")
        if body.get("previous", "") != previous:
            raise CheckpointError(
                f"checkpoint {path.name} does not follow the one before it (one was removed "
                "or replaced)",
                "tampered",
            )
        previous = hashlib.sha256(raw).hexdigest()
        loaded.append(
            Checkpoint(
                name=path.name,
                created_at=body["created_at"],
                partitions={
                    p: (int(v["seq"]), str(v["hash"])) for p, v in body["partitions"].items()
                },
                events=int(body["events"]),
                sha256=previous,
            )
        )
    return loaded


def checkpoint_write(heads: dict[str, tuple[int, str]], previous: list[Checkpoint]) -> Path:
    """Sign ``heads`` (verified by the caller) into a new file of the checkpoint directory."""
    directory = checkpoint_dir()
    if directory is None:
        raise CheckpointError("No checkpoint directory: set ONCOTRIALS_AUDIT_CHECKPOINT_DIR.")
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    body: dict[str, Any] = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "partitions": {p: {"seq": s, "hash": h} for p, (s, h) in sorted(heads.items())},
        "events": sum(s for s, _ in heads.values()),
        "previous": previous[-1].sha256 if previous else "",
    }
    key = signing_key()
    doc = {
        "checkpoint": body,
        "public_key": _raw(key.public_key()),
        "signature": key.sign(sealing.canonical(body)).hex(),
    }
    path = directory / f"checkpoint-{now:%Y%m%dT%H%M%S%fZ}.json"
    with open(path, "x") as fh:  # never overwrite one
        json.dump(doc, fh, indent=1, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    path.chmod(0o444)
    return path
