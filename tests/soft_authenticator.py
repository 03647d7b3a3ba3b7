"""A software FIDO2 authenticator: real P-256 keys and signatures in the WebAuthn wire format.

Service tests use it to produce genuine registrations and assertions that py_webauthn verifies;
browser tests use Chromium's virtual authenticator instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import bytes_to_base64url

UP, UV, AT = 0x01, 0x04, 0x40


def _client_data(kind: str, challenge_b64: str, origin: str) -> bytes:
    return json.dumps(
        {"type": kind, "challenge": challenge_b64, "origin": origin, "crossOrigin": False},
        separators=(",", ":"),
    ).encode()


@dataclass
class SoftAuthenticator:
    rp_id: str = "localhost"
    origin: str = "http://localhost"
    attachment: str = "platform"
    user_verified: bool = True
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: os.urandom(32))
    counter: int = 0
    user_handle: bytes | None = None

    def _flags(self, extra: int = 0) -> int:
        return UP | (UV if self.user_verified else 0) | extra

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def register(self, options_json: str) -> dict[str, Any]:
        """Answer navigator.credentials.create() with `options_json` (the server's options)."""
        options = json.loads(options_json)
        self.user_handle = options["user"]["id"]
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        attested = b"\x00" * 16 + struct.pack(">H", len(self.credential_id)) + self.credential_id
        auth_data = (
            rp_hash
            + bytes([self._flags(AT)])
            + struct.pack(">I", self.counter)
            + attested
            + self._cose_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        cid = bytes_to_base64url(self.credential_id)
        return {
            "id": cid,
            "rawId": cid,
            "type": "public-key",
            "authenticatorAttachment": self.attachment,
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": bytes_to_base64url(
                    _client_data("webauthn.create", options["challenge"], self.origin)
                ),
                "attestationObject": bytes_to_base64url(attestation),
                "transports": ["internal"] if self.attachment == "platform" else ["usb"],
            },
        }

    def get_assertion(
        self, options_json: str | None = None, *, challenge_b64: str | None = None
    ) -> dict[str, Any]:
        """Answer navigator.credentials.get() for the server's options (or a bare challenge)."""
        challenge = challenge_b64 or json.loads(options_json or "{}")["challenge"]
        self.counter += 1
        rp_hash = hashlib.sha256(self.rp_id.encode()).digest()
        auth_data = rp_hash + bytes([self._flags()]) + struct.pack(">I", self.counter)
        client_data = _client_data("webauthn.get", challenge, self.origin)
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        cid = bytes_to_base64url(self.credential_id)
        return {
            "id": cid,
            "rawId": cid,
            "type": "public-key",
            "authenticatorAttachment": self.attachment,
            "clientExtensionResults": {},
            "response": {
                "authenticatorData": bytes_to_base64url(auth_data),
                "clientDataJSON": bytes_to_base64url(client_data),
                "signature": bytes_to_base64url(signature),
                "userHandle": self.user_handle,
            },
        }
