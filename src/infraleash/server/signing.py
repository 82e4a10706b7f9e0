"""The server's Ed25519 key: it signs the audit chain head, so an export can be checked against the server.

The key is a PEM (PKCS#8) file created 0600 on first start (``signing_key_path``); several replicas of one
organisation share it.  The signed message is ``infraleash-audit-head:<seq>:<hash>``.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from infraleash.errors import InputError


def head_message(seq: int, hash_: str) -> bytes:
    return f"infraleash-audit-head:{seq}:{hash_}".encode()


def load_or_create(path: Path) -> Ed25519PrivateKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        return key
    try:
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError, OSError) as e:
        raise InputError(f"{path}: not a readable unencrypted PEM private key ({e})") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise InputError(f"{path}: not an Ed25519 private key")
    return loaded


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def sign_head(key: Ed25519PrivateKey, seq: int, hash_: str) -> str:
    return base64.b64encode(key.sign(head_message(seq, hash_))).decode()


def verify_head(public_key: str, seq: int, hash_: str, signature: str) -> bool:
    try:
        pub = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        pub.verify(base64.b64decode(signature, validate=True), head_message(seq, hash_))
    except (InvalidSignature, ValueError):
        return False
    return True
