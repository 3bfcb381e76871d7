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
