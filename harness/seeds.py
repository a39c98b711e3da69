"""Where every random input of a grade comes from: one seed per case, derived in one place.

With no secret the seeds are the same on every machine, so any failure can be replayed; a
leaderboard secret (SPARSEBENCH_SECRET) makes them unguessable.
"""
from __future__ import annotations

import hashlib

SECRET_ENV = "SPARSEBENCH_SECRET"
DERIVATION = "sha256(slug/label/secret)"


def case_seed(slug: str, label: str, secret: str = "") -> int:
    """A stable seed per case; a secret (leaderboard runs) makes the cases unguessable."""
    return int.from_bytes(hashlib.sha256(f"{slug}/{label}/{secret}".encode()).digest()[:8], "little")


def secret_id(secret: str) -> str | None:
    """Names the secret in the record without revealing it: runs with the same id used
    the same hidden cases. None for public (reproducible) runs."""
    if not secret:
        return None
    return hashlib.sha256(f"sparsebench-secret-id/{secret}".encode()).hexdigest()[:12]
