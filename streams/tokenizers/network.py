"""IP addresses, IPv4 and IPv6.

The first ``ipv4_prefix`` or ``ipv6_prefix`` bits stay (defaults 0 and 0),
so a token stays in the same network, and FF1 encrypts the host bits. With
fewer than 20 host bits the domain is below 1,000,000 and the small-domain
fallback applies. ``generalize`` sets the host bits to zero, turning an
address into its network address. Tokens are in compressed text form.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from streams.errors import InvalidValueError
from streams.tokenizers._engine import Domain, make_tweak
from streams.tokenizers._transformer import Segment, Split

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class IpCodec:
    """Splits an address into its kept prefix and its host bits.

    Attributes:
        ipv4_prefix: IPv4 bits kept, 0 to 32.
        ipv6_prefix: IPv6 bits kept, 0 to 128.
    """

    ipv4_prefix: int = 0
    ipv6_prefix: int = 0

    def split(self, value: Any) -> Split:
        """Cut an address into one segment of host bits."""
        address = parse_ip(value)
        prefix = self.prefix_of(address)
        host_bits = address.max_prefixlen - prefix
        number = int(address)
        network = number >> host_bits << host_bits
        domain = Domain.uniform(2, host_bits)
        numerals = [(number >> (host_bits - 1 - i)) & 1 for i in range(host_bits)]
        tweak = make_tweak("ip_address", f"v{address.version}", f"{network:x}/{prefix}")

        def rebuild(parts: list[list[int]]) -> str:
            host = 0
            for bit in parts[0]:
                host = (host << 1) | bit
            # An IPv6 integer below 2**32 must not turn into an IPv4 address.
            return str(type(address)(network | host))

        segment = Segment("host", domain, numerals, tweak)
        return Split((segment,), rebuild, address.packed)

    def prefix_of(self, address: IpAddress) -> int:
        """Return the configured prefix length for the address's version."""
        return self.ipv4_prefix if address.version == 4 else self.ipv6_prefix

    def generalize(self, value: Any) -> str:
        """Return the network address of the configured prefix."""
        address = parse_ip(value)
        network = ipaddress.ip_network(
            f"{address}/{self.prefix_of(address)}", strict=False
        )
        return str(network.network_address)


def parse_ip(value: Any) -> IpAddress:
    """Parse an IPv4 or IPv6 address in text form."""
    if not isinstance(value, str):
        raise InvalidValueError("an IP address must be a string")
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        raise InvalidValueError(
            "the value is not an IPv4 or IPv6 address in text form"
        ) from None
