#!/usr/bin/env python3
"""Writes v3-aes-gcm-independent.json: a V3 (suite 115) object built without
any emrs3 code, from the S3EC specification (awslabs/aws-encryption-sdk-
specification, s3-encryption/key-derivation.md) with Python's hmac/hashlib
(HKDF-SHA512 written out per RFC 5869) and the `cryptography` package
(AES-GCM). Run from this directory: python3 gen_v3_independent.py

Inputs are fixed so the output is reproducible:
  - data key and message ID: known-answer vector #1 of the AWS S3 Encryption
    Client for Go v4 (aws/amazon-s3-encryption-client-go,
    v4/internal/key_derivation_test.go, TestDeriveKeys_KnownAnswerTests);
    the derived key and commitment are checked against that vector below;
  - key-encryption key: 32 bytes of 0x4b (testKEK in the Go tests);
  - AES/GCM wrap (x-amz-w 02): IV(12) || AES-GCM(KEK, data key) || tag, AAD =
    "AES/GCM/NoPadding" (the cipher name of the suite, as for V2);
  - content: AES-256-GCM under the derived key, IV = 12 x 0x01, AAD = 0x00 0x73.
"""
import base64
import hashlib
import hmac
import json

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DATA_KEY = bytes.fromhex("80d90dc4cc7e77d8a6332efa44eba56230a7fe7b89af37d1e501ab2e07c0a163")
MESSAGE_ID = bytes.fromhex("b8ea76bed24c7b85382a148cb9dcd1cfdfb765f55ded4dfa6e0c4c79")
WANT_DEK = "6dd14f546cc006e639126e83f5d4d1b118576bb5df97f38c6fb3a1db87bbc338"
WANT_COMMITMENT = "f89818bc0a346d3a3426b68e9509b6b2ae5fe1f904aa329fb73625db"
KEK = bytes([0x4B]) * 32
WRAP_IV = bytes(range(12))
SUITE = b"\x00\x73"
PLAINTEXT = "Golden V3 object written by Python, not by emrs3. 0123456789"


def hkdf_sha512(ikm, salt, info, n):
    prk = hmac.new(salt, ikm, hashlib.sha512).digest()
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha512).digest()
        out += t
        i += 1
    return out[:n]


dek = hkdf_sha512(DATA_KEY, MESSAGE_ID, SUITE + b"DERIVEKEY", 32)
commitment = hkdf_sha512(DATA_KEY, MESSAGE_ID, SUITE + b"COMMITKEY", 28)
assert dek.hex() == WANT_DEK and commitment.hex() == WANT_COMMITMENT

wrapped = WRAP_IV + AESGCM(KEK).encrypt(WRAP_IV, DATA_KEY, b"AES/GCM/NoPadding")
ciphertext = AESGCM(dek).encrypt(b"\x01" * 12, PLAINTEXT.encode(), SUITE)

b64 = lambda b: base64.b64encode(b).decode()
golden = {
    "description": "V3 suite 115, AES/GCM (02), written by gen_v3_independent.py (Python cryptography, "
    "no emrs3 code); data key and message ID from the S3EC Go v4 known-answer vector #1",
    "provider": "aes",
    "policy": {"LegacyUnauthenticated": False, "LegacyWrapping": False, "Commitment": 0},
    "metadata": {
        "Content-Type": "application/octet-stream",
        "X-Amz-Meta-X-Amz-C": "115",
        "X-Amz-Meta-X-Amz-3": b64(wrapped),
        "X-Amz-Meta-X-Amz-W": "02",
        "X-Amz-Meta-X-Amz-D": b64(commitment),
        "X-Amz-Meta-X-Amz-I": b64(MESSAGE_ID),
        "X-Amz-Meta-X-Amz-M": "{}",
        "X-Amz-Meta-X-Amz-Unencrypted-Content-Length": str(len(PLAINTEXT)),
    },
    "ciphertext": b64(ciphertext),
    "plaintext": PLAINTEXT,
}
with open("v3-aes-gcm-independent.json", "w") as f:
    json.dump(golden, f, indent=2)
    f.write("\n")
