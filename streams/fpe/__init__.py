"""Format-preserving encryption: FF1 and FF3-1 from NIST SP 800-38G on AES.

FF1 is the cipher to use. FF3-1 is kept for compatibility only, because NIST's
2025 draft revision of SP 800-38G withdraws it. This package does no I/O and
no logging.
"""

from streams.fpe.ff1 import FF1, AlphabetFF1
from streams.fpe.ff3_1 import FF3_1, AlphabetFF3_1

__all__ = ["FF1", "FF3_1", "AlphabetFF1", "AlphabetFF3_1"]
