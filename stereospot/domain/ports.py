"""Ports: what the use cases need from the outside world, and the semantics adapters keep.

Every port has a memory adapter (tests), and local/aws adapters that pass the same
contract tests (tests/contract/). Anything a use case relies on is written here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol
from uuid import UUID

from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.media import SegmentFile, VideoInfo
from stereospot.domain.model import Job, SegmentCompletion, SegmentProgress
from stereospot.domain.routing import QueueName

# --------------------------------------------------------------------------- time, scratch


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        ...


class ScratchSpace(Protocol):
    def directory(self) -> AbstractContextManager[Path]:
        """A fresh empty local directory, removed with its contents on exit."""
        ...


# --------------------------------------------------------------------------- jobs


@dataclass(frozen=True)
class Page:
    jobs: list[Job]
    next_cursor: str | None  # opaque; pass back to get the next page; None = last page


class JobStore(Protocol):
    """Jobs by id. Writes are conditional, like DynamoDB's.

    - create(job): raises AlreadyExists if a job with this id exists.
    - save(job): writes `job` with version = job.version + 1 iff the stored version equals
      job.version; otherwise raises ConditionFailed (nothing written). Returns the saved job.
      This is how a status transition or a field update is made safely: read, change, save;
      of two workers saving from the same version exactly one wins.
    - get(id): the job (any status, deleted included) or None.
    - list_in_progress(limit): jobs whose status is in progress, newest created first.
    - list_completed(limit, cursor): completed jobs, newest completed_at first, paginated.
    - list_failed(limit, cursor): failed jobs, newest failed_at first, paginated the same
      way (ties broken by id; a job without failed_at sorts at its created_at where the
      store can place it: memory and SQLite, not DynamoDB, whose index needs the time).
    Cursors are opaque; one that cannot be read raises ValueError.
    - delete(id): removes the record (cleanup); absent is fine.
    """

    def create(self, job: Job) -> None: ...

    def save(self, job: Job) -> Job: ...

    def get(self, job_id: UUID) -> Job | None: ...

    def list_in_progress(self, limit: int = 100) -> list[Job]: ...

    def list_completed(self, limit: int = 20, cursor: str | None = None) -> Page: ...

    def list_failed(self, limit: int = 20, cursor: str | None = None) -> Page: ...

    def delete(self, job_id: UUID) -> None: ...


class SegmentCompletionStore(Protocol):
    """- put: idempotent per (job_id, segment_index); returns True iff newly recorded.
    - list: the job's completions ordered by segment_index.
    - delete_job: removes every completion of the job."""

    def put(self, completion: SegmentCompletion) -> bool: ...

    def list(self, job_id: UUID) -> list[SegmentCompletion]: ...

    def delete_job(self, job_id: UUID) -> None: ...


class SegmentProgressStore(Protocol):
    """Frames converted per segment, reported about once a second by the video workers.

    - put(report): upsert per (job_id, segment_index). The first report's started_at
      stays. A report with fewer frames_done than stored is ignored entirely (a retry
      that starts over, or a late write); otherwise frames_done, frames_total and
      updated_at are replaced.
    - list(job_id): the job's reports ordered by segment_index.
    - delete_job(job_id): removes every report of the job."""

    def put(self, report: SegmentProgress) -> None: ...

    def list(self, job_id: UUID) -> list[SegmentProgress]: ...

    def delete_job(self, job_id: UUID) -> None: ...


class ReassemblyLock(Protocol):
    """One per job.

    - create(job_id, now, ttl_s): True iff this call created the lock (False if it exists).
    - claim(job_id, claimant, now, lease_s): True iff the lock exists and is unclaimed, or
      already claimed by this same claimant (redelivery of the same message), or its lease
      has expired (the claimant died). Otherwise False. Exactly one of racing claimants wins.
    - delete(job_id): removes it (cleanup).
    Records expire `ttl_s` after creation (DynamoDB TTL); expired records count as absent.
    """

    def create(self, job_id: UUID, now: datetime, ttl_s: int) -> bool: ...

    def claim(self, job_id: UUID, claimant: str, now: datetime, lease_s: int) -> bool: ...

    def delete(self, job_id: UUID) -> None: ...


@dataclass(frozen=True)
class Invocation:
    output_location: str
    job_id: UUID
    segment_index: int


class InferenceInvocationStore(Protocol):
    """Async inference output location -> (job, segment). put is an upsert; get of an
    expired or absent record is None.

    In-flight slots: the cap on async invocations shared by every video-worker process.
    - acquire_slot(holder, now, ttl_s, capacity): the slot number (0..capacity-1) this
      holder now holds, or None when all `capacity` slots are held. A holder that holds a
      live slot already gets it again (its TTL renewed). Of racing acquirers of one free
      slot exactly one wins (conditional writes); a slot past its TTL counts as free, so
      a response that never arrives frees its slot after ttl_s.
    - release_slot(holder): frees the holder's slot; nothing if it holds none (or its slot
      expired and was taken by another holder since).
    - live_slots(now, capacity): how many of the slots are held now.
    """

    def put(self, invocation: Invocation, now: datetime, ttl_s: int) -> None: ...

    def get(self, output_location: str, now: datetime) -> Invocation | None: ...

    def delete(self, output_location: str) -> None: ...

    def acquire_slot(self, holder: str, now: datetime, ttl_s: int, capacity: int) -> int | None: ...

    def release_slot(self, holder: str) -> None: ...

    def live_slots(self, now: datetime, capacity: int) -> int: ...


# --------------------------------------------------------------------------- storage


class ObjectStorage(Protocol):
    """Objects by key (keys from domain.keys). Writes are atomic: readers see the whole
    object or none. Streaming: nothing is held whole in memory. Invalid keys (see
    keys.validate_storage_key) raise InvalidKey.

    - put_file / put_bytes: write (overwrite allowed). A write may trigger ObjectEvents.
    - get_file(key, dest): stream to a local file; raises ObjectNotFound if absent.
    - get_bytes: small objects only; raises ObjectNotFound if absent.
    - exists, size (None if absent), list_keys(prefix) sorted.
    - delete_prefix(prefix): removes every object under prefix, returns how many.
    - upload_url(key, expires_s, max_bytes): a URL the browser PUTs the file to.
    - download_url(key, expires_s, filename): a URL to GET (HTTP Range works), with
      Content-Disposition attachment when filename is given, inline otherwise.
    """

    def put_file(self, key: str, source: Path) -> None: ...

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def get_file(self, key: str, dest: Path) -> None: ...

    def get_bytes(self, key: str) -> bytes: ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int | None: ...

    def list_keys(self, prefix: str) -> list[str]: ...

    def delete_prefix(self, prefix: str) -> int: ...

    def upload_url(self, key: str, expires_s: int, max_bytes: int) -> str: ...

    def download_url(self, key: str, expires_s: int, filename: str | None = None) -> str: ...


# --------------------------------------------------------------------------- queues


@dataclass(frozen=True)
class ReceivedMessage:
    message_id: str  # stable across redeliveries of the same message
    body: str
    receipt: str  # handle for delete / extend_visibility of this delivery
    receive_count: int  # 1 on first delivery


class Queue(Protocol):
    """At-least-once queue with SQS semantics.

    - send(body, delay_s): enqueue; returns the message id.
    - receive(max_messages, wait_s, visibility_timeout_s): up to max_messages, waiting up to
      wait_s for the first (long poll). A received message is invisible for the visibility
      timeout (the queue's default when None) and reappears if not deleted. Each delivery
      increments receive_count. A message whose receive_count would exceed max_receives is
      moved to the dead-letter queue instead of being delivered.
    - delete(receipt): done with it. A stale receipt (message redelivered since) never
      raises; memory and local then delete nothing, SQS may still delete the message
      (documented), so handlers must stay idempotent rather than rely on either.
    - extend_visibility(receipt, timeout_s): keep a long job invisible.
    - approximate_count(): visible + in-flight messages.
    - dead_letters(): the dead-letter queue (itself a Queue, without a further DLQ).
    """

    name: str
    max_receives: int

    def send(self, body: str, delay_s: int = 0) -> str: ...

    def receive(
        self, max_messages: int = 1, wait_s: float = 0.0, visibility_timeout_s: int | None = None
    ) -> list[ReceivedMessage]: ...

    def delete(self, receipt: str) -> None: ...

    def extend_visibility(self, receipt: str, timeout_s: int) -> None: ...

    def approximate_count(self) -> int: ...

    def dead_letters(self) -> Queue: ...


class Queues(Protocol):
    def __getitem__(self, name: QueueName) -> Queue: ...


class MessageDecoder(Protocol):
    """Turns a queue body into domain messages. Locally that is messages.parse_message; on
    AWS it also unpacks S3 notifications (a test event yields no message). Raises
    MalformedMessage for a body it cannot read."""

    def __call__(self, body: str) -> list[object]: ...


# --------------------------------------------------------------------------- media, inference


class VideoToolkit(Protocol):
    """Probe, split and concat with PyAV. Errors a user causes raise MediaError with a
    readable sentence."""

    def probe(self, path: Path) -> VideoInfo: ...

    def split(self, source: Path, out_dir: Path, target_seconds: float) -> list[SegmentFile]:
        """Keyframe-aligned, stream-copied, video-only segments starting at t=0, in index order."""
        ...

    def concat(self, segments: Sequence[Path], audio_source: Path | None, out: Path) -> None:
        """Segments in order by stream copy, plus the source's audio by stream copy, faststart."""
        ...

    def poster(self, video: Path, out: Path) -> None:
        """One representative frame of `video` as a JPEG (MediaError if none)."""
        ...


@dataclass(frozen=True)
class ConversionRequest:
    job_id: UUID
    segment_index: int
    input_key: str
    output_key: str
    output_format: StereoFormat
    settings: ConversionSettings
    # Key of the previous source segment, for temporal warm-up across boundaries.
    previous_input_key: str | None = None


@dataclass(frozen=True)
class ConversionResult:
    """completed: the output object is written. Otherwise the conversion was submitted
    asynchronously and its result will appear at output_location (an object event).
    output_event: False when another process wrote the output (a remote server), whose
    write may fire no object event here; the use case then records the completion itself."""

    completed: bool
    output_location: str | None = None
    output_event: bool = True
    failure_location: str | None = None  # where an async failure object would appear


ProgressCallback = Callable[[int, int], None]  # (frames done, frames total)


class InferenceBackend(Protocol):
    def convert(
        self, request: ConversionRequest, on_progress: ProgressCallback | None = None
    ) -> ConversionResult: ...


# --------------------------------------------------------------------------- events, push, ingest


@dataclass(frozen=True)
class JobEvent:
    job_id: UUID
    status: str
    segments_done: int | None = None
    at: datetime | None = None
    detail: dict[str, object] = field(default_factory=dict)


class JobEvents(Protocol):
    """A stream of job changes for SSE and push.

    - publish(event): append (local: change log; aws: DynamoDB streams do it, no-op).
    - read_after(cursor, limit): events after cursor (None = from now on), and the new cursor.
    - open() / close(): a web process starting and stopping its reading (aws: creates and
      deletes this task's queue of the job-events topic; elsewhere nothing to do).
    """

    def publish(self, event: JobEvent) -> None: ...

    def open(self) -> None: ...

    def close(self) -> None: ...

    def read_after(self, cursor: str | None, limit: int = 100) -> tuple[list[JobEvent], str]: ...


@dataclass(frozen=True)
class PushSubscription:
    endpoint: str
    p256dh: str
    auth: str


class PushSubscriptionStore(Protocol):
    def add(self, job_id: UUID, subscription: PushSubscription) -> None: ...

    def list(self, job_id: UUID) -> list[PushSubscription]: ...

    def remove(self, job_id: UUID, endpoint: str) -> None: ...

    def delete_job(self, job_id: UUID) -> None: ...


class SubscriptionGone(Exception):
    """The push service says this subscription no longer exists (HTTP 404/410)."""


class PushUndelivered(Exception):
    """The push service did not take the message after the sender's own retries (5xx,
    429, network errors): worth sending again later."""


class PushSender(Protocol):
    def send(self, subscription: PushSubscription, payload: dict[str, object]) -> None: ...


@dataclass(frozen=True)
class FetchedSource:
    path: Path
    title: str


class SourceFetcher(Protocol):
    def fetch(self, url: str, dest_dir: Path, max_bytes: int) -> FetchedSource:
        """Download the video at url into dest_dir; FetchError with a readable reason."""
        ...


__all__ = [
    "Clock",
    "ConversionRequest",
    "ConversionResult",
    "FetchedSource",
    "InferenceBackend",
    "InferenceInvocationStore",
    "Invocation",
    "JobEvent",
    "JobEvents",
    "JobStore",
    "MessageDecoder",
    "ObjectStorage",
    "Page",
    "ProgressCallback",
    "PushSender",
    "PushSubscription",
    "PushSubscriptionStore",
    "PushUndelivered",
    "Queue",
    "Queues",
    "ReassemblyLock",
    "ReceivedMessage",
    "ScratchSpace",
    "SegmentCompletionStore",
    "SegmentProgressStore",
    "SourceFetcher",
    "SubscriptionGone",
    "VideoToolkit",
]
