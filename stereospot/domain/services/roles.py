"""What each use case touches, as the type of its first argument.

A use case takes the role it needs, so its signature says which ports it reads or writes,
and mypy holds it to that: `cancel_job(deps: Announcing, ...)` reaching for
`deps.storage` would not type-check. A role is a Protocol of read-only ports (`Has*`, one
port each), and a role that calls another use case includes that one's role. The
composition root's `Deps` has every port, so it plays every role; a test may pass any
smaller object with the ports a role names.

    Publishing      events, clock                       support.publish
    Announcing      + jobs                              create_job, cancel_job, ...
    Pushing         push subscriptions, push sender     support.send_push
    Notifying       Pushing + jobs, clock               support.notify_outcome
    Failing         Announcing + Notifying              fail_job
    Requesting      Failing + queues                    create_job_from_url
    Removing        Announcing + queues, policy         request_deletion
    Expiring        Removing + storage                  remove_abandoned_uploads
    Linking         jobs, storage, policy               upload/download URLs, poster
    Listing         jobs, storage                       list_in_progress
    Reading         jobs, completions, progress, storage, clock, policy (job views)
    Subscribing     jobs, push subscriptions            subscribe_push
    Outbox          Notifying + policy                  outbox.sweep_notifications
    Triggering      Announcing + completions, lock, queues, policy   trigger_if_ready
    Chunking        Failing + Triggering + storage, scratch, toolkit chunk_source
    Reassembling    Failing + storage, lock, policy, scratch, toolkit  reassemble
    Cleaning        jobs, storage, completions, progress, lock, push subscriptions
    Ingesting       Failing + storage, scratch, fetcher, policy         ingest
    ReportingProgress  Publishing + progress, policy     conversion.ProgressReporter
    RecordingOutputs   Triggering + Failing + storage, invocations, scratch
    Converting      RecordingOutputs + inference, progress             segments
    Working         every worker role (dispatch routes a message to any of them)
    DeadLettering   Failing + invocations               dispatch.handle_dead_letter
    WebPorts        the web app's: Reading + Requesting + Removing + Subscribing
    Polling         jobs, progress                      the web feed without events
    Housekeeping    Expiring + Outbox                   the media worker's chores
"""

from __future__ import annotations

from typing import Protocol

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
from stereospot.domain.services.deps import Policy


class HasJobs(Protocol):
    @property
    def jobs(self) -> JobStore: ...


class HasCompletions(Protocol):
    @property
    def completions(self) -> SegmentCompletionStore: ...


class HasProgress(Protocol):
    @property
    def progress(self) -> SegmentProgressStore: ...


class HasReassemblyLock(Protocol):
    @property
    def reassembly_lock(self) -> ReassemblyLock: ...


class HasInvocations(Protocol):
    @property
    def invocations(self) -> InferenceInvocationStore: ...


class HasStorage(Protocol):
    @property
    def storage(self) -> ObjectStorage: ...


class HasQueues(Protocol):
    @property
    def queues(self) -> Queues: ...


class HasEvents(Protocol):
    @property
    def events(self) -> JobEvents: ...


class HasPushSubscriptions(Protocol):
    @property
    def push_subscriptions(self) -> PushSubscriptionStore: ...


class HasPushSender(Protocol):
    @property
    def push_sender(self) -> PushSender: ...


class HasClock(Protocol):
    @property
    def clock(self) -> Clock: ...


class HasScratch(Protocol):
    @property
    def scratch(self) -> ScratchSpace: ...


class HasToolkit(Protocol):
    @property
    def toolkit(self) -> VideoToolkit: ...


class HasInference(Protocol):
    @property
    def inference(self) -> InferenceBackend: ...


class HasFetcher(Protocol):
    @property
    def fetcher(self) -> SourceFetcher: ...


class HasPolicy(Protocol):
    @property
    def policy(self) -> Policy: ...


# ---------------------------------------------------------------------- roles
# Each role lists its ports flat (in one order, so that the roles combine); a role that
# calls another use case has at least that one's ports, which mypy checks structurally.


class Publishing(HasEvents, HasClock, Protocol):
    """Tells the live pages about a change (support.publish)."""


class Announcing(HasJobs, HasEvents, HasClock, Protocol):
    """Saves a job and tells the live pages (support.update_job + publish)."""


class Pushing(HasPushSubscriptions, HasPushSender, Protocol):
    """Sends Web Push to a job's subscribers (support.send_push)."""


class Notifying(HasJobs, HasPushSubscriptions, HasPushSender, HasClock, Protocol):
    """Pushes a job's outcome and records that it did (support.notify_outcome)."""


class Failing(HasJobs, HasEvents, HasPushSubscriptions, HasPushSender, HasClock, Protocol):
    """Fails a job: saves, announces and pushes it (jobs.fail_job)."""


class Requesting(
    HasJobs, HasQueues, HasEvents, HasPushSubscriptions, HasPushSender, HasClock, Protocol
):
    """Creates a job whose source a worker fetches (jobs.create_job_from_url)."""


class Removing(HasJobs, HasQueues, HasEvents, HasClock, HasPolicy, Protocol):
    """Soft-deletes a job and asks for its cleanup (jobs.request_deletion)."""


class Expiring(HasJobs, HasStorage, HasQueues, HasEvents, HasClock, HasPolicy, Protocol):
    """Removes jobs whose upload never came (jobs.remove_abandoned_uploads)."""


class Linking(HasJobs, HasStorage, HasPolicy, Protocol):
    """Signs a job's upload and download links, reads its poster."""


class Listing(HasJobs, HasStorage, Protocol):
    """Lists the jobs under way (jobs.list_in_progress)."""


class Reading(HasJobs, HasCompletions, HasProgress, HasStorage, HasClock, HasPolicy, Protocol):
    """Reads jobs with their progress and files (the pages' and the API's views)."""


class Subscribing(HasJobs, HasPushSubscriptions, Protocol):
    """Subscribes a browser to a job's outcome (jobs.subscribe_push)."""


class Outbox(HasJobs, HasPushSubscriptions, HasPushSender, HasClock, HasPolicy, Protocol):
    """Sends the notifications a dying process lost (outbox.sweep_notifications)."""


class Triggering(
    HasJobs, HasCompletions, HasReassemblyLock, HasQueues, HasEvents, HasClock, HasPolicy, Protocol
):
    """Starts reassembly once every segment is converted (reassembly.trigger_if_ready)."""


class Chunking(
    HasJobs,
    HasCompletions,
    HasReassemblyLock,
    HasStorage,
    HasQueues,
    HasEvents,
    HasPushSubscriptions,
    HasPushSender,
    HasClock,
    HasScratch,
    HasToolkit,
    HasPolicy,
    Protocol,
):
    """Splits a source into segments (chunking.chunk_source)."""


class Reassembling(
    HasJobs,
    HasReassemblyLock,
    HasStorage,
    HasEvents,
    HasPushSubscriptions,
    HasPushSender,
    HasClock,
    HasScratch,
    HasToolkit,
    HasPolicy,
    Protocol,
):
    """Joins the converted segments (reassembly.reassemble)."""


class Cleaning(
    HasJobs,
    HasCompletions,
    HasProgress,
    HasReassemblyLock,
    HasStorage,
    HasPushSubscriptions,
    Protocol,
):
    """Removes every object and record of a removed job (removal.cleanup_job)."""


class Ingesting(
    HasJobs,
    HasStorage,
    HasEvents,
    HasPushSubscriptions,
    HasPushSender,
    HasClock,
    HasScratch,
    HasFetcher,
    HasPolicy,
    Protocol,
):
    """Downloads a job's source from its link (ingest.ingest)."""


class ReportingProgress(HasProgress, HasEvents, HasClock, HasPolicy, Protocol):
    """Records and announces a segment's frames done (conversion.ProgressReporter)."""


class RecordingOutputs(
    HasJobs,
    HasCompletions,
    HasReassemblyLock,
    HasInvocations,
    HasStorage,
    HasQueues,
    HasEvents,
    HasPushSubscriptions,
    HasPushSender,
    HasClock,
    HasScratch,
    HasPolicy,
    Protocol,
):
    """Records what lands in the output prefix (conversion.handle_output_object)."""


class Converting(
    HasJobs,
    HasCompletions,
    HasProgress,
    HasReassemblyLock,
    HasInvocations,
    HasStorage,
    HasQueues,
    HasEvents,
    HasPushSubscriptions,
    HasPushSender,
    HasClock,
    HasScratch,
    HasInference,
    HasPolicy,
    Protocol,
):
    """Converts a segment (conversion.handle_segment_ready)."""


class Working(
    HasJobs,
    HasCompletions,
    HasProgress,
    HasReassemblyLock,
    HasInvocations,
    HasStorage,
    HasQueues,
    HasEvents,
    HasPushSubscriptions,
    HasPushSender,
    HasClock,
    HasScratch,
    HasToolkit,
    HasInference,
    HasFetcher,
    HasPolicy,
    Protocol,
):
    """Every worker use case: dispatch routes a message (or a dead letter) to any one."""


class WebPorts(
    HasJobs,
    HasCompletions,
    HasProgress,
    HasStorage,
    HasQueues,
    HasEvents,
    HasPushSubscriptions,
    HasPushSender,
    HasClock,
    HasPolicy,
    Protocol,
):
    """Everything the web app's use cases touch (no media, inference or scratch)."""


class Polling(HasJobs, HasProgress, Protocol):
    """Watches the running jobs where the platform has no event source (web feed)."""


class Housekeeping(
    HasJobs,
    HasStorage,
    HasQueues,
    HasEvents,
    HasPushSubscriptions,
    HasPushSender,
    HasClock,
    HasPolicy,
    Protocol,
):
    """The media worker's chores: abandoned uploads and lost notifications."""


class DeadLettering(
    HasJobs, HasInvocations, HasEvents, HasPushSubscriptions, HasPushSender, HasClock, Protocol
):
    """Fails the job of a message that kept failing (dispatch.handle_dead_letter)."""
