"""A use case touches only the ports of its role (domain/services/roles.py): each runs here
on an object holding those ports and nothing else, so reaching for another one fails."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from stereospot.adapters.memory.jobs import MemoryJobStore
from stereospot.adapters.memory.push import MemoryPushSubscriptionStore
from stereospot.domain.errors import JobNotFound
from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.model import JobStatus
from stereospot.domain.ports import PushSubscription
from stereospot.domain.services import jobs, removal
from tests.unit.fakes import make_world


@dataclass(frozen=True)
class OnlyAnnouncing:
    jobs: Any
    events: Any
    clock: Any


@dataclass(frozen=True)
class OnlySubscribing:
    jobs: Any
    push_subscriptions: Any


@dataclass(frozen=True)
class OnlyCleaning:
    jobs: Any
    storage: Any
    completions: Any
    progress: Any
    reassembly_lock: Any
    push_subscriptions: Any


class RecordedEvents:
    def __init__(self) -> None:
        self.published: list[Any] = []

    def publish(self, event: Any) -> None:
        self.published.append(event)


def _create(deps: Any) -> Any:
    return jobs.create_job(deps, output_format=StereoFormat.HALF_SBS, settings=ConversionSettings())


def test_create_and_cancel_need_only_jobs_events_and_clock(tmp_path: Path) -> None:
    ports = OnlyAnnouncing(MemoryJobStore(), RecordedEvents(), make_world(tmp_path).clock)
    job = _create(ports)
    cancelled = jobs.cancel_job(ports, job.id)
    assert cancelled.status is JobStatus.FAILED
    assert [e.status for e in ports.events.published] == ["created", "failed"]


def test_subscribing_needs_only_jobs_and_subscriptions(tmp_path: Path) -> None:
    world = make_world(tmp_path)
    job = _create(world.deps)
    ports = OnlySubscribing(world.deps.jobs, MemoryPushSubscriptionStore())
    subscription = PushSubscription(endpoint="https://push.example/1", p256dh="k", auth="a")
    jobs.subscribe_push(ports, job.id, subscription)
    assert ports.push_subscriptions.list(job.id) == [subscription]
    with pytest.raises(JobNotFound):
        jobs.subscribe_push(ports, uuid4(), subscription)


def test_cleanup_needs_no_queue_clock_or_push_sender(tmp_path: Path) -> None:
    deps = make_world(tmp_path).deps
    job = _create(deps)
    jobs.fail_job(deps, job.id, "Given up.")
    jobs.request_deletion(deps, job.id)
    ports = OnlyCleaning(
        deps.jobs,
        deps.storage,
        deps.completions,
        deps.progress,
        deps.reassembly_lock,
        deps.push_subscriptions,
    )
    removal.cleanup_job(ports, job.id)
    assert deps.jobs.get(job.id) is None
