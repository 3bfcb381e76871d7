"""`stereospot aws smoke-test`: prove a deployed stack answers, step by step.

Uses the aws platform's own adapters (so the wiring is tested too) against the resources
Settings.aws names: every table, a probe message through every configured queue,
a presigned upload and download, the output bucket; then removes what it made.
Run it on an idle stack: to take its probe back it receives from each queue, and puts any
other message it sees straight back (which counts as one receive of that message).
Nothing it writes matches a notification route, so no worker is triggered by it.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from uuid import UUID

from stereospot.adapters.aws.sqs_queue import queue_urls
from stereospot.config import Settings
from stereospot.domain.ids import new_job_id
from stereospot.domain.messages import ObjectCreated
from stereospot.domain.model import Job, SegmentCompletion
from stereospot.domain.ports import Invocation, PushSubscription, Queue
from stereospot.domain.routing import QueueName
from stereospot.platforms.aws import PlatformContainer

PROBE = b"stereospot smoke test probe\n"
_HTTP_TIMEOUT_S = 30


class StepFailed(Exception):
    """A check whose result was not what the step expects."""


@dataclass(frozen=True)
class StepResult:
    name: str
    ok: bool
    detail: str


def _expect(condition: bool, failure: str) -> None:
    if not condition:
        raise StepFailed(failure)


class SmokeTest:
    def __init__(self, settings: Settings, queue_wait_s: float = 10.0) -> None:
        self._settings = settings
        self._platform = PlatformContainer(settings=settings)
        self._queue_wait_s = queue_wait_s
        self._job_id = new_job_id()
        self._now = datetime.now(UTC)

    @property
    def job_id(self) -> UUID:
        return self._job_id

    def steps(self) -> list[tuple[str, Callable[[], str]]]:
        steps: list[tuple[str, Callable[[], str]]] = [
            ("jobs table", self._jobs),
            ("segment completions table", self._completions),
            ("reassembly table", self._reassembly),
            ("inference invocations table", self._invocations),
            ("push subscriptions table", self._push),
        ]
        urls = queue_urls(self._settings.aws)
        for name in QueueName:
            if urls[name] or name is not QueueName.INGEST:  # ingest is optional
                steps.append((f"queue {name.value}", partial(self._queue, name)))
        steps += [
            ("presigned upload", self._upload),
            ("presigned download", self._download),
            ("output bucket", self._output_bucket),
        ]
        return steps

    def run(self, report: Callable[[StepResult], None]) -> bool:
        """Run every step until one fails, then clean up; True iff all passed."""
        ok = True
        try:
            for name, step in self.steps():
                result = _attempt(name, step)
                report(result)
                if not result.ok:
                    ok = False
                    break
        finally:
            cleanup = _attempt("cleanup", self._cleanup)
            report(cleanup)
        return ok and cleanup.ok

    # ------------------------------------------------------------------ steps

    def _jobs(self) -> str:
        jobs = self._platform.jobs()
        job = Job(id=self._job_id, title="stereospot smoke test", created_at=self._now)
        jobs.create(job)
        _expect(jobs.get(job.id) == job, "the job read back differs from the one written")
        saved = jobs.save(job.with_changes(title="stereospot smoke test (saved)"))
        _expect(saved.version == 1, "a conditional save did not bump the version")
        return "created, read and conditionally saved a job"

    def _completions(self) -> str:
        completions = self._platform.completions()
        completion = SegmentCompletion(
            job_id=self._job_id, segment_index=0, output_key="smoke", completed_at=self._now
        )
        _expect(completions.put(completion), "a new completion was not recorded")
        _expect(not completions.put(completion), "a repeated completion was recorded twice")
        _expect(len(completions.list(self._job_id)) == 1, "the completion did not list")
        return "recorded a completion once"

    def _reassembly(self) -> str:
        lock = self._platform.reassembly_lock()
        _expect(lock.create(self._job_id, self._now, 600), "the lock was not created")
        _expect(lock.claim(self._job_id, "smoke", self._now, 60), "the lock was not claimed")
        return "created and claimed a lock"

    def _invocations(self) -> str:
        invocations = self._platform.invocations()
        record = Invocation(self._location(), self._job_id, 0)
        invocations.put(record, self._now, 600)
        _expect(invocations.get(record.output_location, self._now) == record, "not read back")
        return "stored and read an invocation"

    def _push(self) -> str:
        store = self._platform.push_subscriptions()
        subscription = PushSubscription("https://push.invalid/smoke", "p256dh", "auth")
        store.add(self._job_id, subscription)
        _expect(store.list(self._job_id) == [subscription], "the subscription did not list")
        return "stored and listed a subscription"

    def _queue(self, name: QueueName) -> str:
        queue = self._platform.queues()[name]
        probe = ObjectCreated(bucket="input", key=f"smoke-test/{self._job_id}/{name.value}")
        sent_id = queue.send(probe.to_body())
        if self._take_back(queue, sent_id):
            return f"sent and received a probe (DLQ: {self._dlq_name(queue)})"
        return (
            f"sent a probe; not received back within {self._queue_wait_s:g} s "
            "(a running worker may have taken it; it ignores such probes)"
        )

    def _take_back(self, queue: Queue, message_id: str) -> bool:
        """Receive until our probe comes; others stay hidden meanwhile (so each is received
        at most once) and are put back at the end."""
        others: list[str] = []
        found = False
        deadline = time.monotonic() + self._queue_wait_s
        try:
            while not found and (remaining := deadline - time.monotonic()) > 0:
                wait = min(remaining, 5.0)
                for message in queue.receive(10, wait_s=wait, visibility_timeout_s=60):
                    if message.message_id == message_id:
                        queue.delete(message.receipt)
                        found = True
                    else:
                        others.append(message.receipt)
        finally:
            for receipt in others:
                queue.extend_visibility(receipt, 0)
        return found

    @staticmethod
    def _dlq_name(queue: Queue) -> str:
        try:
            return queue.dead_letters().name
        except LookupError:
            raise StepFailed(f"queue {queue.name} has no dead-letter queue") from None

    def _upload(self) -> str:
        storage = self._platform.storage()
        url = storage.upload_url(self._probe_key(), 300, len(PROBE))
        request = urllib.request.Request(  # noqa: S310 (an https URL S3 signed for us)
            url, data=PROBE, method="PUT", headers={"Content-Type": "application/octet-stream"}
        )
        with urllib.request.urlopen(request, timeout=_HTTP_TIMEOUT_S) as response:  # noqa: S310
            _expect(response.status == 200, f"the PUT answered HTTP {response.status}")
        size = storage.size(self._probe_key())
        _expect(size == len(PROBE), f"the uploaded object has {size} bytes, not {len(PROBE)}")
        return "uploaded a probe with a presigned PUT"

    def _download(self) -> str:
        storage = self._platform.storage()
        url = storage.download_url(self._probe_key(), 300, filename="smoke.bin")
        with urllib.request.urlopen(url, timeout=_HTTP_TIMEOUT_S) as response:  # noqa: S310
            body = response.read()
            disposition = response.headers.get("Content-Disposition", "")
        _expect(body == PROBE, "the presigned GET returned other bytes")
        _expect("smoke.bin" in disposition, f"no file name in Content-Disposition {disposition!r}")
        return "downloaded it with a presigned GET (Content-Disposition set)"

    def _output_bucket(self) -> str:
        storage = self._platform.storage()
        key = f"jobs/{self._job_id}/smoke-probe.bin"
        storage.put_bytes(key, PROBE)
        _expect(storage.get_bytes(key) == PROBE, "the output bucket returned other bytes")
        return "wrote and read an object in the output bucket"

    def _cleanup(self) -> str:
        storage = self._platform.storage()
        removed = storage.delete_prefix(f"smoke-test/{self._job_id}/")
        removed += storage.delete_prefix(f"jobs/{self._job_id}/")
        self._platform.jobs().delete(self._job_id)
        self._platform.completions().delete_job(self._job_id)
        self._platform.reassembly_lock().delete(self._job_id)
        self._platform.invocations().delete(self._location())
        self._platform.push_subscriptions().delete_job(self._job_id)
        return f"removed the smoke records and {removed} objects"

    # ------------------------------------------------------------------ names

    def _probe_key(self) -> str:
        return f"smoke-test/{self._job_id}/probe.bin"

    def _location(self) -> str:
        return f"s3://{self._settings.aws.output_bucket}/smoke-test/{self._job_id}.out"


def _attempt(name: str, step: Callable[[], str]) -> StepResult:
    try:
        return StepResult(name, True, step())
    except Exception as exc:  # any failure is the step's result, with its reason
        return StepResult(name, False, f"{type(exc).__name__}: {exc}")
