"""InferenceInvocationStore contract: upsert, lookup, TTL, delete."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

from platforms import ContractClock

from stereospot.domain.ports import InferenceInvocationStore, Invocation

TTL_S = 3600
LOCATION = "s3://stereospot-output/sagemaker-async-responses/4f1c.out"


def test_put_then_get(invocation_store: InferenceInvocationStore, clock: ContractClock) -> None:
    invocation = Invocation(output_location=LOCATION, job_id=uuid4(), segment_index=4)
    invocation_store.put(invocation, clock.now(), TTL_S)
    assert invocation_store.get(LOCATION, clock.now()) == invocation
    assert invocation_store.get(LOCATION + ".other", clock.now()) is None


def test_put_replaces_the_record_of_a_location(
    invocation_store: InferenceInvocationStore, clock: ContractClock
) -> None:
    invocation_store.put(Invocation(LOCATION, uuid4(), 1), clock.now(), TTL_S)
    replacement = Invocation(LOCATION, uuid4(), 2)
    invocation_store.put(replacement, clock.now(), TTL_S)
    assert invocation_store.get(LOCATION, clock.now()) == replacement


def test_records_expire_after_their_ttl(
    invocation_store: InferenceInvocationStore, clock: ContractClock
) -> None:
    invocation = Invocation(LOCATION, uuid4(), 0)
    now = clock.now()
    invocation_store.put(invocation, now, TTL_S)
    assert invocation_store.get(LOCATION, now + timedelta(seconds=TTL_S - 1)) == invocation
    assert invocation_store.get(LOCATION, now + timedelta(seconds=TTL_S + 1)) is None


def test_delete(invocation_store: InferenceInvocationStore, clock: ContractClock) -> None:
    invocation_store.put(Invocation(LOCATION, uuid4(), 0), clock.now(), TTL_S)
    invocation_store.delete(LOCATION)
    assert invocation_store.get(LOCATION, clock.now()) is None
    invocation_store.delete(LOCATION)  # absent is fine


CAP = 2


def test_slots_are_capped_and_a_holder_gets_its_own_slot_again(
    invocation_store: InferenceInvocationStore, clock: ContractClock
) -> None:
    holder = f"{uuid4()}/0"
    now = clock.now()
    first = invocation_store.acquire_slot(holder, now, TTL_S, CAP)
    assert first is not None
    assert invocation_store.acquire_slot(holder, now, TTL_S, CAP) == first
    other = invocation_store.acquire_slot(f"{uuid4()}/1", now, TTL_S, CAP)
    assert other is not None and other != first
    assert invocation_store.acquire_slot(f"{uuid4()}/2", now, TTL_S, CAP) is None
    assert invocation_store.live_slots(now, CAP) == CAP


def test_a_released_slot_is_free_again(
    invocation_store: InferenceInvocationStore, clock: ContractClock
) -> None:
    now = clock.now()
    holders = [f"{uuid4()}/{i}" for i in range(CAP)]
    for holder in holders:
        assert invocation_store.acquire_slot(holder, now, TTL_S, CAP) is not None
    invocation_store.release_slot(holders[0])
    invocation_store.release_slot(holders[0])  # twice is fine
    invocation_store.release_slot(f"{uuid4()}/9")  # a holder without a slot too
    assert invocation_store.live_slots(now, CAP) == CAP - 1
    assert invocation_store.acquire_slot(f"{uuid4()}/5", now, TTL_S, CAP) is not None
    assert invocation_store.acquire_slot(f"{uuid4()}/6", now, TTL_S, CAP) is None


def test_an_expired_slot_is_free_and_its_old_holder_cannot_release_the_new_one(
    invocation_store: InferenceInvocationStore, clock: ContractClock
) -> None:
    now = clock.now()
    lost = [f"{uuid4()}/{i}" for i in range(CAP)]
    for holder in lost:
        assert invocation_store.acquire_slot(holder, now, TTL_S, CAP) is not None
    later = now + timedelta(seconds=TTL_S + 1)
    assert invocation_store.live_slots(later, CAP) == 0
    newcomer = f"{uuid4()}/7"
    assert invocation_store.acquire_slot(newcomer, later, TTL_S, CAP) is not None
    for holder in lost:
        invocation_store.release_slot(holder)
    assert invocation_store.live_slots(later, CAP) == 1
