"""URLs handed to clients.

Upload and download URLs always come from the storage port (signed by this app locally,
presigned by S3 on AWS). Locally they are built on Settings.public_url; when the client
reached us under another name (localhost vs 127.0.0.1, another port), they are re-based
on the host it used, so the page's PUT stays same-origin. The signature covers the key and
query, not the host, so re-basing keeps it valid.
"""

from __future__ import annotations

from quart import request

from stereospot.entrypoints.web.security import Security


class ClientUrls:
    """`client_urls(url)`: the storage's URL as this request's client should use it."""

    def __init__(self, public_url: str, serves_files: bool, security: Security) -> None:
        self._base = public_url.rstrip("/")
        self._serves_files = serves_files
        self._security = security

    def __call__(self, url: str) -> str:
        if not self._serves_files or not url.startswith(f"{self._base}/files/"):
            return url
        # The host is one of the trusted ones (Security.require_trusted_host).
        scheme = "https" if self._security.is_secure_request() else "http"
        return f"{scheme}://{request.host}{url[len(self._base) :]}"
