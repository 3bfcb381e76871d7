"""Push subscriptions in memory, and a sender that records what it would have sent."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from uuid import UUID

from stereospot.domain.ports import PushSubscription, SubscriptionGone


class MemoryPushSubscriptionStore:
    def __init__(self) -> None:
        self._by_job: dict[UUID, dict[str, PushSubscription]] = {}
        self._lock = threading.Lock()

    def add(self, job_id: UUID, subscription: PushSubscription) -> None:
        with self._lock:
            self._by_job.setdefault(job_id, {})[subscription.endpoint] = subscription

    def list(self, job_id: UUID) -> list[PushSubscription]:
        with self._lock:
            return list(self._by_job.get(job_id, {}).values())

    def remove(self, job_id: UUID, endpoint: str) -> None:
        with self._lock:
            self._by_job.get(job_id, {}).pop(endpoint, None)

    def delete_job(self, job_id: UUID) -> None:
        with self._lock:
            self._by_job.pop(job_id, None)


@dataclass(frozen=True)
class SentPush:
    subscription: PushSubscription
    payload: dict[str, object]


class RecordingPushSender:
    """Records every notification. Endpoints in `gone` raise SubscriptionGone (HTTP 410);
    `failure`, when set, is raised for every other send (a push service outage)."""

    def __init__(self) -> None:
        self.sent: list[SentPush] = []
        self.gone: set[str] = set()
        self.failure: Exception | None = None
        self._lock = threading.Lock()

    def send(self, subscription: PushSubscription, payload: dict[str, object]) -> None:
        if subscription.endpoint in self.gone:
            raise SubscriptionGone(f"{subscription.endpoint} is gone")
        if self.failure is not None:
            raise self.failure
        with self._lock:
            self.sent.append(SentPush(subscription, dict(payload)))
