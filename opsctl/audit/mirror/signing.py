"""Signatures on checkpoints: an Ed25519 key from an environment variable, or AWS KMS ``Sign``.

The private key never leaves its env var (or KMS) and is never printed: errors
name the variable, not its value. ``cryptography`` is an optional extra
(``opsctl[signing]``) imported only here, only when a key is configured.
Verification needs only the public half: ``audit.s3.public_key`` (PEM or
base64 of the 32 raw bytes), the private key's env var, or KMS ``GetPublicKey``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Mapping
from typing import Any

from opsctl.config import S3Audit
from opsctl.errors import BadInput

SIGNING_EXTRA = "pip install 'opsctl[signing]'"
# KMS key specs and the algorithm opsctl asks for, best first.
KMS_ALGORITHMS = ("ECDSA_SHA_256", "ECDSA_SHA_384", "ECDSA_SHA_512", "RSASSA_PSS_SHA_256", "RSASSA_PKCS1_V1_5_SHA_256")


def _require_cryptography() -> None:
    try:
        import cryptography  # noqa: F401
    except ImportError:
        raise BadInput(f"signing or verifying audit checkpoints needs cryptography: {SIGNING_EXTRA}") from None


def _ed25519_private(name: str, environ: Mapping[str, str]) -> Any:
    value = environ.get(name, "").strip()
    if not value:
        raise BadInput(f"audit.s3.signing_key_env names {name}, which is not set; set it or remove the key")
    _require_cryptography()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    text = value.replace("\\n", "\n") if "\n" not in value else value  # CI secrets often carry literal \n
    try:
        key: Any = (
            load_pem_private_key(text.encode(), password=None)
            if "-----BEGIN" in text
            else Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
        )
    except (ValueError, TypeError, binascii.Error):
        key = None
    if not isinstance(key, Ed25519PrivateKey):
        raise BadInput(f"{name} does not hold an Ed25519 private key (PEM, or base64 of its 32 bytes)")
    return key


def _ed25519_public(text: str) -> Any:
    _require_cryptography()
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        key: Any = (
            load_pem_public_key(text.encode())
            if "-----BEGIN" in text
            else Ed25519PublicKey.from_public_bytes(base64.b64decode(text.strip(), validate=True))
        )
    except (ValueError, TypeError, binascii.Error):
        key = None
    if not isinstance(key, Ed25519PublicKey):
        raise BadInput("audit.s3.public_key is not an Ed25519 public key (PEM, or base64 of its 32 bytes)")
    return key


def _fingerprint(public_key: Any) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]


class Signer:
    """Signs checkpoint messages; ``block`` is what goes into the checkpoint's ``sig``."""

    alg: str
    key: str

    def sign(self, message: bytes) -> bytes:
        raise NotImplementedError

    def block(self, message: bytes) -> dict[str, str]:
        return {"alg": self.alg, "key": self.key, "value": base64.b64encode(self.sign(message)).decode()}


class Ed25519Signer(Signer):
    alg = "ed25519"

    def __init__(self, private_key: Any) -> None:
        self._private = private_key
        self.key = _fingerprint(private_key.public_key())

    def sign(self, message: bytes) -> bytes:
        signature: bytes = self._private.sign(message)
        return signature


class KmsSigner(Signer):
    def __init__(self, client: Any, key_id: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        from opsctl.aws.errors import aws_problem

        self._client = client
        try:
            info = client.get_public_key(KeyId=key_id)
        except (BotoCoreError, ClientError) as exc:
            raise aws_problem(exc, f"reading KMS key {key_id}", "KMS") from None
        offered = info.get("SigningAlgorithms") or []
        choice = next((a for a in KMS_ALGORITHMS if a in offered), None)
        if choice is None:
            raise BadInput(f"KMS key {key_id} cannot sign with any of {', '.join(KMS_ALGORITHMS)}")
        self.algorithm = choice
        self.alg = f"kms:{choice}"
        self.key = str(info["KeyId"])
        self.public_der: bytes = info["PublicKey"]

    def sign(self, message: bytes) -> bytes:
        answer = self._client.sign(KeyId=self.key, Message=message, MessageType="RAW", SigningAlgorithm=self.algorithm)
        signature: bytes = answer["Signature"]
        return signature


def _kms_client(s3: S3Audit) -> Any:
    from opsctl.aws.client import aws_client

    return aws_client("kms", region=s3.region, endpoint_url=s3.endpoint_url)


def make_signer(s3: S3Audit, environ: Mapping[str, str] | None = None) -> Signer | None:
    """The configured signer, or None when checkpoints go unsigned."""
    env = os.environ if environ is None else environ
    if s3.signing_key_env and s3.kms_key_id:
        raise BadInput("audit.s3: set signing_key_env or kms_key_id, not both")
    if s3.signing_key_env:
        return Ed25519Signer(_ed25519_private(s3.signing_key_env, env))
    if s3.kms_key_id:
        return KmsSigner(_kms_client(s3), s3.kms_key_id)
    return None


class Verifier:
    """Checks ``sig`` blocks against one public key."""

    def __init__(self, public_key: Any, alg: str, key: str) -> None:
        self._public = public_key
        self.alg = alg
        self.key = key

    def problem(self, sig: dict[str, str], message: bytes) -> str | None:
        """None when ``sig`` is a valid signature of ``message`` by this key, else why not."""
        from cryptography.exceptions import InvalidSignature

        if sig.get("alg") != self.alg or sig.get("key") != self.key:
            return f"signed by another key ({sig.get('alg')} {sig.get('key')}), not {self.alg} {self.key}"
        try:
            signature = base64.b64decode(sig.get("value", ""), validate=True)
            self._verify(signature, message)
        except (InvalidSignature, ValueError, binascii.Error):
            return "bad signature (the checkpoint was altered, or signed by someone else)"
        return None

    def _verify(self, signature: bytes, message: bytes) -> None:
        if self.alg == "ed25519":
            self._public.verify(signature, message)
            return
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding

        name = self.alg.removeprefix("kms:")
        digest: Any = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[name[-3:]]
        if name.startswith("ECDSA"):
            self._public.verify(signature, message, ec.ECDSA(digest))
        elif name.startswith("RSASSA_PSS"):
            self._public.verify(signature, message, padding.PSS(padding.MGF1(digest), padding.PSS.AUTO), digest)
        else:
            self._public.verify(signature, message, padding.PKCS1v15(), digest)


def make_verifier(s3: S3Audit, environ: Mapping[str, str] | None = None) -> Verifier | None:
    """A verifier for the configured key, or None when no key is configured at all."""
    env = os.environ if environ is None else environ
    if s3.kms_key_id:
        _require_cryptography()
        from cryptography.hazmat.primitives.serialization import load_der_public_key

        signer = KmsSigner(_kms_client(s3), s3.kms_key_id)
        return Verifier(load_der_public_key(signer.public_der), signer.alg, signer.key)
    if s3.public_key:
        public = _ed25519_public(s3.public_key)
    elif s3.signing_key_env and env.get(s3.signing_key_env, "").strip():
        public = _ed25519_private(s3.signing_key_env, env).public_key()
    else:
        return None
    return Verifier(public, "ed25519", _fingerprint(public))
