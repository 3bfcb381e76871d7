"""Which addresses StereoSpot may connect to on a user's behalf, and vetting a host name.

A host is allowed only when every address it resolves to is public unicast. Refused:
loopback, private (RFC 1918), link-local (169.254/16, the cloud metadata address among
them), CGNAT (100.64/10), multicast, reserved, unspecified, IPv6 ULA and link-local, and the
IPv4-mapped, 6to4, NAT64 and Teredo forms that embed any of those. Numeric host spellings
(2130706433, 0x7f000001, 127.1, 0, 0177.0.0.1) are read the way the C library reads them,
so they are judged by the address they really reach.

An operator may allow some private networks (STEREOSPOT_FETCH_ALLOW_PRIVATE: "true" for
all, or a comma-separated list of networks such as "10.0.0.0/8,127.0.0.3/32").
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

REFUSED = "That link points to a private network address, which StereoSpot does not fetch."
UNREACHABLE = "The site could not be reached. Please check the link."

_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_ALL = "*"
_TRUE = frozenset({"1", "true", "yes", "on", "all", "*"})


class Refused(Exception):
    """The target is not a public address (str(exc) is REFUSED; the detail is in .detail)."""

    def __init__(self, detail: str) -> None:
        super().__init__(REFUSED)
        self.detail = detail


class Unreachable(Exception):
    """The host could not be resolved (str(exc) is UNREACHABLE)."""

    def __init__(self, detail: str) -> None:
        super().__init__(UNREACHABLE)
        self.detail = detail


@dataclass(frozen=True)
class PrivateAllowance:
    """The private networks an operator allows (none by default)."""

    networks: tuple[IPNetwork, ...] = ()
    everything: bool = False

    @classmethod
    def parse(cls, text: str | bool | None) -> PrivateAllowance:
        if isinstance(text, bool):
            return cls(everything=text)
        text = (text or "").strip()
        if text.lower() in _TRUE:
            return cls(everything=True)
        if text.lower() in ("", "0", "false", "no", "off", "none"):
            return cls()
        networks = []
        for item in filter(None, (part.strip() for part in text.split(","))):
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"{item!r} is not a network (use e.g. 10.0.0.0/8)") from None
        return cls(networks=tuple(networks))

    def allows(self, address: IPAddress) -> bool:
        return self.everything or any(address in network for network in self.networks)


def numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address of an IPv4 literal in any inet_aton spelling (None if it is not one)."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or any(part == "" for part in parts):
        return None
    values: list[int] = []
    for part in parts:
        text = part.lower()
        try:
            if text.startswith("0x"):
                value = int(text[2:] or "0", 16)
            elif len(text) > 1 and text.startswith("0"):
                value = int(text[1:], 8)
            else:
                value = int(text, 10) if text.isdigit() else -1
        except ValueError:
            return None
        if value < 0:
            return None
        values.append(value)
    *head, last = values
    if any(value > 255 for value in head) or last >= 256 ** (4 - len(head)):
        return None
    number = 0
    for value in head:
        number = number * 256 + value
    number = number * 256 ** (4 - len(head)) + last
    return ipaddress.IPv4Address(number)


def literal_address(host: str) -> IPAddress | None:
    """The address a host written as a number stands for, or None for a name."""
    host = host.strip("[]")
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    return numeric_ipv4(host)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in network for network in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if int(address) >> 32 == 0 and int(address) > 1:  # deprecated IPv4-compatible ::a.b.c.d
        return ipaddress.IPv4Address(int(address))
    return None


def is_public(address: IPAddress) -> bool:
    """Public unicast: reachable on the internet, and not one of the refused kinds."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public(embedded)
    elif address in _CGNAT:
        return False
    return not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
        or not address.is_global
    )


@dataclass(frozen=True)
class Vetted:
    """A host and the addresses it was found to have (connect to these, never look again)."""

    host: str
    port: int
    addresses: tuple[IPAddress, ...]


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise Unreachable(f"cannot resolve {host}: {exc}") from None
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


def vet(host: str, port: int, allowance: PrivateAllowance = PrivateAllowance()) -> Vetted:
    """Resolve `host` once; Refused unless every address is public (or allowed)."""
    host = host.strip().rstrip(".").lower()
    if not host or not 0 < port < 65536:
        raise Refused(f"bad target {host!r}:{port}")
    literal = literal_address(host)
    if literal is None and host.replace(".", "").isdigit():
        raise Refused(f"odd numeric host {host!r}")
    addresses = [literal] if literal is not None else _resolve(host, port)
    if not addresses:
        raise Unreachable(f"{host} has no address")
    refused = [a for a in addresses if not (is_public(a) or allowance.allows(a))]
    if refused:
        raise Refused(f"{host} resolves to {', '.join(map(str, refused))}")
    return Vetted(host, port, tuple(addresses))


def connect(target: Vetted, timeout_s: float) -> socket.socket:
    """A TCP connection to one of the vetted addresses (tried in order)."""
    last: OSError | None = None
    for address in _ordered(target.addresses):
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout_s)
        try:
            sock.connect((str(address), target.port))
        except OSError as exc:
            sock.close()
            last = exc
            continue
        return sock
    raise last or OSError(f"no address for {target.host}")


def _ordered(addresses: Iterable[IPAddress]) -> list[IPAddress]:
    return sorted(addresses, key=lambda a: a.version)  # IPv4 first: more often routable
