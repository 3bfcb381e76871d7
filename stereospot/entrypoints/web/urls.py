"""URLs handed to clients.

Upload and download URLs always come from the storage port (signed by this app locally,
presigned by S3 on AWS). Locally they are built on Settings.public_url; when the client
reached us under another name (localhost vs 127.0.0.1, another port), they are re-based
on the host it used, so the page's PUT stays same-origin. The signature covers the key and
query, not the host, so re-basing keeps it valid.
"""

from __future__ import annotations

from quart import request

from stereospot.entrypoints.web.runtime import state
from stereospot.entrypoints.web.security import is_secure_request


def client_url(url: str) -> str:
    web = state()
    if not web.serves_files:
        return url
    base = web.settings.public_url.rstrip("/")
    if not url.startswith(f"{base}/files/"):
        return url
    # The host is one of the trusted ones (security.require_trusted_host).
    scheme = "https" if is_secure_request() else "http"
    return f"{scheme}://{request.host}{url[len(base) :]}"
