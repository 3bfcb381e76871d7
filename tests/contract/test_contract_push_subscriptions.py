"""PushSubscriptionStore contract: one subscription per endpoint and job."""

from __future__ import annotations

from uuid import uuid4

from stereospot.domain.ports import PushSubscription, PushSubscriptionStore


def sub(n: int, keys: str = "k") -> PushSubscription:
    return PushSubscription(
        endpoint=f"https://push.example.com/send/{n}",
        p256dh=f"{keys}-p256dh-{n}",
        auth=f"{keys}-auth-{n}",
    )


def by_endpoint(subscriptions: list[PushSubscription]) -> list[PushSubscription]:
    return sorted(subscriptions, key=lambda s: s.endpoint)


def test_add_and_list_per_job(push_subscriptions: PushSubscriptionStore) -> None:
    job_id, other_job = uuid4(), uuid4()
    push_subscriptions.add(job_id, sub(1))
    push_subscriptions.add(job_id, sub(2))
    push_subscriptions.add(other_job, sub(3))
    assert by_endpoint(push_subscriptions.list(job_id)) == [sub(1), sub(2)]
    assert push_subscriptions.list(other_job) == [sub(3)]
    assert push_subscriptions.list(uuid4()) == []


def test_adding_an_endpoint_again_replaces_its_keys(
    push_subscriptions: PushSubscriptionStore,
) -> None:
    job_id = uuid4()
    push_subscriptions.add(job_id, sub(1, keys="old"))
    push_subscriptions.add(job_id, sub(1, keys="new"))
    assert push_subscriptions.list(job_id) == [sub(1, keys="new")]


def test_remove_and_delete_job(push_subscriptions: PushSubscriptionStore) -> None:
    job_id, other_job = uuid4(), uuid4()
    for n in (1, 2, 3):
        push_subscriptions.add(job_id, sub(n))
    push_subscriptions.add(other_job, sub(1))
    push_subscriptions.remove(job_id, sub(2).endpoint)
    push_subscriptions.remove(job_id, "https://push.example.com/never-added")
    assert by_endpoint(push_subscriptions.list(job_id)) == [sub(1), sub(3)]
    push_subscriptions.delete_job(job_id)
    assert push_subscriptions.list(job_id) == []
    assert push_subscriptions.list(other_job) == [sub(1)]
