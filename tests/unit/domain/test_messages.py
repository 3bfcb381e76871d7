"""Queue messages: round-trip, versioned, and malformed bodies raise MalformedMessage."""

from __future__ import annotations

import json
from uuid import uuid4

import pytest

from stereospot.domain.errors import MalformedMessage
from stereospot.domain.messages import (
    DeletionRequested,
    IngestRequested,
    ObjectCreated,
    PlatformSource,
    ReassemblyRequested,
    SegmentReady,
    UrlSource,
    parse_message,
)

J = uuid4()
MESSAGES = [
    ObjectCreated(bucket="input", key=f"input/{J}/source.mp4", size=12),
    SegmentReady(job_id=J, segment_index=2, total_segments=3, key="k"),
    ReassemblyRequested(job_id=J),
    DeletionRequested(job_id=J),
    IngestRequested(job_id=J, source=UrlSource(url="https://a.example/v.mp4")),
    IngestRequested(job_id=J, source=PlatformSource(url="https://video.example/watch?v=1")),
]


@pytest.mark.parametrize("message", MESSAGES, ids=lambda m: type(m).__name__)
def test_round_trip(message: object) -> None:
    body = message.to_body()  # type: ignore[attr-defined]
    assert json.loads(body)["version"] == 1
    assert parse_message(body) == message
    assert parse_message(body.encode()) == message


@pytest.mark.parametrize(
    "body",
    [
        "",
        "not json",
        "[]",
        "{}",
        '{"type": "reassembly"}',
        f'{{"type": "reassembly", "job_id": "{J}", "version": 2}}',
        '{"type": "reassembly", "job_id": "../../etc"}',
        f'{{"type": "teleport", "job_id": "{J}"}}',
        f'{{"type": "reassembly", "job_id": "{J}", "extra": 1}}',
        f'{{"type": "segment_ready", "job_id": "{J}", "segment_index": -1, '
        '"total_segments": 1, "key": "k"}',
        f'{{"type": "ingest", "job_id": "{J}", "source": {{"kind": "url", "url": "file:///x"}}}}',
        f'{{"type": "ingest", "job_id": "{J}", "source": {{"kind": "ftp", "url": "https://x.y"}}}}',
        '{"type": "object_created", "bucket": "", "key": "k"}',
    ],
)
def test_malformed_bodies_raise_a_typed_readable_error(body: str) -> None:
    with pytest.raises(MalformedMessage, match="malformed message"):
        parse_message(body)
