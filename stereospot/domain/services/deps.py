"""The ports and policy values a use case may need, bundled so entrypoints pass one thing."""

from __future__ import annotations

from dataclasses import dataclass

from stereospot.domain.ports import (
    Clock,
    InferenceBackend,
    InferenceInvocationStore,
    JobEvents,
    JobStore,
    ObjectStorage,
    PushSender,
    PushSubscriptionStore,
    Queues,
    ReassemblyLock,
    ScratchSpace,
    SegmentCompletionStore,
    SegmentProgressStore,
    SourceFetcher,
    VideoToolkit,
)


@dataclass(frozen=True)
class Policy:
    segment_seconds: float = 10.0
    max_upload_bytes: int = 8 * 1024**3
    upload_url_expiry_s: int = 3600
    download_url_expiry_s: int = 6 * 3600
    reassembly_lock_ttl_s: int = 7 * 24 * 3600
    reassembly_lease_s: int = 30 * 60
    invocation_ttl_s: int = 24 * 3600  # also how long a lost async response holds its slot
    max_in_flight: int = 4  # async invocations in flight, across every video worker
    slot_wait_s: int = 5  # a segment finding every slot taken is offered again after this
    eta_sample_size: int = 20
    progress_interval_s: float = 1.0  # at most one progress write per segment this often
    abandoned_upload_s: int = 24 * 3600  # a job waiting longer for its file is removed
    deletion_delay_s: int = 2  # the cleanup request, sent before the soft delete, waits this
    notify_grace_s: int = 30  # a finished job not notified this long after is (the sweep)
    notify_horizon_s: int = 3600  # ... unless it finished longer ago than this


@dataclass(frozen=True)
class Deps:
    jobs: JobStore
    completions: SegmentCompletionStore
    progress: SegmentProgressStore
    reassembly_lock: ReassemblyLock
    invocations: InferenceInvocationStore
    storage: ObjectStorage
    queues: Queues
    events: JobEvents
    push_subscriptions: PushSubscriptionStore
    push_sender: PushSender
    clock: Clock
    scratch: ScratchSpace
    toolkit: VideoToolkit
    inference: InferenceBackend
    fetcher: SourceFetcher
    policy: Policy = Policy()
