"""Queue messages: pydantic models with a schema version, discriminated by `type`."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from stereospot.domain.errors import MalformedMessage
from stereospot.domain.limits import URL_MAX_LENGTH

SCHEMA_VERSION: Literal[1] = 1


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = SCHEMA_VERSION

    def to_body(self) -> str:
        return self.model_dump_json()


class ObjectCreated(_Message):
    """A new object in storage (what S3 notifications and the local router say)."""

    type: Literal["object_created"] = "object_created"
    bucket: str = Field(min_length=1, max_length=255)
    key: str = Field(min_length=1, max_length=1024)
    size: int | None = Field(default=None, ge=0)


class SegmentReady(_Message):
    """A source segment waits for conversion."""

    type: Literal["segment_ready"] = "segment_ready"
    job_id: UUID
    segment_index: int = Field(ge=0)
    total_segments: int = Field(ge=1)
    key: str


class ReassemblyRequested(_Message):
    type: Literal["reassembly"] = "reassembly"
    job_id: UUID


class DeletionRequested(_Message):
    type: Literal["deletion"] = "deletion"
    job_id: UUID


class UrlSource(BaseModel):
    """A direct link to a video file, downloaded over HTTP(S)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["url"] = "url"
    url: str = Field(min_length=8, max_length=URL_MAX_LENGTH, pattern=r"^https?://")


class PlatformSource(BaseModel):
    """A page on a video platform, resolved by yt-dlp."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["platform"] = "platform"
    url: str = Field(min_length=8, max_length=URL_MAX_LENGTH, pattern=r"^https?://")


IngestSource = Annotated[UrlSource | PlatformSource, Field(discriminator="kind")]


class IngestRequested(_Message):
    type: Literal["ingest"] = "ingest"
    job_id: UUID
    source: IngestSource


Message = Annotated[
    ObjectCreated | SegmentReady | ReassemblyRequested | DeletionRequested | IngestRequested,
    Field(discriminator="type"),
]

_MESSAGE_ADAPTER: TypeAdapter[Message] = TypeAdapter(Message)


def parse_message(body: str | bytes) -> Message:
    """Parse a queue body into its message, or raise MalformedMessage."""
    try:
        return _MESSAGE_ADAPTER.validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0] if exc.errors() else {"msg": "invalid"}
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise MalformedMessage(
            f"malformed message ({where or 'body'}: {first.get('msg')})"
        ) from exc
