"""Signed URLs, as the platform's own server judges them (memory and local).

S3's presigned URLs are judged by S3; there the object-storage contract's URL test applies.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from uuid import UUID, uuid4

import pytest
from platforms import PlatformUnderTest, UrlChecker, UrlGrant, UrlRejected

from stereospot.domain.keys import final_key, source_key
from stereospot.domain.ports import ObjectStorage

pytestmark = pytest.mark.platforms("memory", "local")


def checker(platform: PlatformUnderTest) -> UrlChecker:
    check = platform.url_checker()
    assert check is not None
    return check


def test_urls_grant_their_key_and_limits(
    platform: PlatformUnderTest, object_storage: ObjectStorage
) -> None:
    check = checker(platform)
    key = source_key(uuid4())
    upload = object_storage.upload_url(key, 600, max_bytes=5_000_000)
    assert check(upload, "upload") == UrlGrant(key=key, max_bytes=5_000_000, filename=None)
    download = object_storage.download_url(key, 600, filename="Holiday_LR_Half_SBS.mp4")
    assert check(download, "download") == UrlGrant(
        key=key, max_bytes=None, filename="Holiday_LR_Half_SBS.mp4"
    )
    inline = object_storage.download_url(key, 600)
    assert check(inline, "download").filename is None


def test_urls_expire(platform: PlatformUnderTest, object_storage: ObjectStorage) -> None:
    check = checker(platform)
    url = object_storage.download_url(final_key(uuid4()), 60)
    platform.clock.advance(59)
    check(url, "download")
    platform.clock.advance(2)
    with pytest.raises(UrlRejected):
        check(url, "download")


def test_urls_grant_only_their_action(
    platform: PlatformUnderTest, object_storage: ObjectStorage
) -> None:
    check = checker(platform)
    key = source_key(uuid4())
    with pytest.raises(UrlRejected):
        check(object_storage.download_url(key, 600), "upload")
    with pytest.raises(UrlRejected):
        check(object_storage.upload_url(key, 600, 1000), "download")


def _replace_once(url: str, old: str, new: str) -> str:
    assert old in url, url
    return url.replace(old, new, 1)


def _bump_expiry(url: str) -> str:
    """The same URL with its expiry (the only 10-digit number in it) one hour later."""
    match = re.search(r"(?<==)(\d{10})(?=&|$)", url)
    assert match is not None, url
    return url[: match.start()] + str(int(match.group()) + 3600) + url[match.end() :]


TAMPERINGS: dict[str, Callable[[str, UUID], str]] = {
    "key": lambda url, job: _replace_once(url, str(job), str(uuid4())),
    "size limit": lambda url, _job: _replace_once(url, "=4321", "=99999999"),
    "expiry": lambda url, _job: _bump_expiry(url),
    "file name": lambda url, _job: _replace_once(url, "film.mp4", "evil.mp4"),
}


@pytest.mark.parametrize("tampering", sorted(TAMPERINGS))
def test_tampered_urls_are_refused(
    platform: PlatformUnderTest, object_storage: ObjectStorage, tampering: str
) -> None:
    check = checker(platform)
    job = uuid4()
    key = source_key(job)
    if tampering == "file name":
        action, url = "download", object_storage.download_url(key, 600, filename="film.mp4")
    else:
        action, url = "upload", object_storage.upload_url(key, 600, max_bytes=4321)
    assert check(url, action).key == key
    tampered = TAMPERINGS[tampering](url, job)
    assert tampered != url
    with pytest.raises(UrlRejected):
        check(tampered, action)
