"""Making and checking the secrets of personal tokens and integration keys.

A secret reads `hdp_<random>` (personal token) or `hdk_<random>` (integration key), so people and
secret scanners can tell what leaked. Only its SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "hdp_"
KEY_PREFIX = "hdk_"
# The public start of a secret shown in lists: the kind and six random characters.
SHOWN_CHARS = 10
# Longer secrets than any we issue are refused before hashing.
SECRET_MAX_CHARS = 100


def new_secret(kind_prefix: str) -> str:
    return kind_prefix + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def shown_prefix(secret: str) -> str:
    return secret[:SHOWN_CHARS]
