"""The outbound guard's address rules: every spelling of a non-public address is refused."""

from __future__ import annotations

import ipaddress

import pytest

from stereospot.adapters.outbound.addresses import (
    REFUSED,
    PrivateAllowance,
    Refused,
    is_public,
    literal_address,
    numeric_ipv4,
    vet,
)


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0xa9.254.169.254", "169.254.169.254"),
        ("10.0.0.1", "10.0.0.1"),
    ],
)
def test_numeric_spellings_are_read_as_the_c_library_reads_them(
    spelling: str, address: str
) -> None:
    assert numeric_ipv4(spelling) == ipaddress.IPv4Address(address)


@pytest.mark.parametrize("name", ["example.com", "1.2.3.4.5", "256.1", "12a", ""])
def test_names_and_malformed_numbers_are_not_ipv4_literals(name: str) -> None:
    assert numeric_ipv4(name) is None


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
        "100.64.0.1", "0.0.0.0", "224.0.0.1", "240.0.0.1", "255.255.255.255",
        "192.0.2.1", "198.18.0.1", "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1",
        "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::7f00:1",
        "64:ff9b::a9fe:a9fe", "2002:7f00:1::", "2001:db8::1", "::127.0.0.1",
    ],
)  # fmt: skip
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"]
)
def test_public_unicast_addresses_pass(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "2130706433", "0x7f000001", "127.1", "0", "[::1]", "::ffff:7f00:1", "localhost"],
)
def test_vet_refuses_with_the_one_sentence(host: str) -> None:
    with pytest.raises(Refused) as refused:
        vet(host, 80)
    assert str(refused.value) == REFUSED


def test_an_allowance_opens_only_its_networks() -> None:
    allowance = PrivateAllowance.parse("127.0.0.3/32, 10.0.0.0/8")
    assert vet("127.0.0.3", 80, allowance).addresses == (ipaddress.ip_address("127.0.0.3"),)
    assert vet("10.9.8.7", 80, allowance).port == 80
    with pytest.raises(Refused):
        vet("127.0.0.2", 80, allowance)
    assert PrivateAllowance.parse("true").allows(ipaddress.ip_address("::1"))
    assert not PrivateAllowance.parse("").allows(ipaddress.ip_address("::1"))
    with pytest.raises(ValueError, match="not a network"):
        PrivateAllowance.parse("intranet")


def test_literal_address_handles_brackets_and_zones() -> None:
    assert literal_address("[fe80::1%eth0]") == ipaddress.ip_address("fe80::1")
    assert literal_address("example.com") is None
