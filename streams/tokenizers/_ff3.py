"""FF3-1 ciphers under a subkey of their own, for the ``cipher: ff3-1`` option.

FF3-1 is opt-in for the digit types only, for compatibility with systems
that already hold FF3-1 tokens. NIST's 2025 draft revision of SP 800-38G
withdraws FF3 and FF3-1, so FF1 stays the default.

The FF3-1 key is a subkey separate from the FF1 key: HKDF-SHA256 (RFC 5869)
over the key version's 32 bytes, with salt ``"<key_id>/<version>"`` and info
``seawall ff3-1 v1``, 32 bytes of output (AES-256). The 56-bit FF3-1 tweak
is the first 7 bytes of SHA-256 over the type-separating tweak that FF1
uses, so types and kept prefixes still separate tokens.
"""

from __future__ import annotations

import functools
import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from streams.fpe import FF3_1
from streams.fpe.ff3_1 import TWEAK_LENGTH
from streams.keys import KeyVersion

FF3_1_INFO = b"seawall ff3-1 v1"
# Ciphers kept across key versions and radixes. The digit types use radix 10
# and radix 2 only, so 16 entries cover 8 key versions.
_CIPHER_CACHE_SIZE = 16


def ff3_1_tweak(tweak: bytes) -> bytes:
    """Return the 56-bit FF3-1 tweak derived from a type-separating tweak."""
    return hashlib.sha256(tweak).digest()[:TWEAK_LENGTH]


# NOTE: the subkey is derived here because `KeyVersion` only derives the FF1
# and pseudonym subkeys. A `KeyVersion.ff3_1(radix)` next to `ff1` would keep
# every derivation in streams.keys; this function can then go.
@functools.lru_cache(maxsize=_CIPHER_CACHE_SIZE)
def ff3_1_cipher(key: KeyVersion, radix: int) -> FF3_1:
    """Return the FF3-1 cipher for `radix` under the key version's FF3-1 subkey."""
    salt = f"{key.key_id}/{key.version}".encode()
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=FF3_1_INFO)
    return FF3_1(hkdf.derive(key.material.reveal()), radix)
