"""ReassemblyLock contract: create once, claim once under a lease, expiry by TTL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from uuid import uuid4

from platforms import ContractClock

from stereospot.domain.ports import ReassemblyLock

TTL_S = 3600
LEASE_S = 600


def test_create_succeeds_once(reassembly_lock: ReassemblyLock, clock: ContractClock) -> None:
    job_id = uuid4()
    now = clock.now()
    assert reassembly_lock.create(job_id, now, TTL_S) is True
    assert reassembly_lock.create(job_id, now + timedelta(seconds=1), TTL_S) is False
    assert reassembly_lock.create(uuid4(), now, TTL_S) is True  # other jobs are independent


def test_claim_needs_the_lock_to_exist(
    reassembly_lock: ReassemblyLock, clock: ContractClock
) -> None:
    assert reassembly_lock.claim(uuid4(), "worker-a", clock.now(), LEASE_S) is False


def test_first_claimant_wins_and_may_claim_again(
    reassembly_lock: ReassemblyLock, clock: ContractClock
) -> None:
    job_id = uuid4()
    now = clock.now()
    reassembly_lock.create(job_id, now, TTL_S)
    assert reassembly_lock.claim(job_id, "worker-a", now, LEASE_S) is True
    assert reassembly_lock.claim(job_id, "worker-b", now + timedelta(seconds=1), LEASE_S) is False
    # The same message delivered again to the same claimant goes on.
    assert reassembly_lock.claim(job_id, "worker-a", now + timedelta(seconds=2), LEASE_S) is True


def test_an_expired_lease_passes_to_another_claimant(
    reassembly_lock: ReassemblyLock, clock: ContractClock
) -> None:
    job_id = uuid4()
    now = clock.now()
    reassembly_lock.create(job_id, now, TTL_S)
    assert reassembly_lock.claim(job_id, "dead-worker", now, LEASE_S) is True
    before_expiry = now + timedelta(seconds=LEASE_S - 1)
    assert reassembly_lock.claim(job_id, "worker-b", before_expiry, LEASE_S) is False
    after_expiry = now + timedelta(seconds=LEASE_S + 1)
    assert reassembly_lock.claim(job_id, "worker-b", after_expiry, LEASE_S) is True
    assert reassembly_lock.claim(job_id, "dead-worker", after_expiry, LEASE_S) is False


def test_the_lock_expires_after_its_ttl(
    reassembly_lock: ReassemblyLock, clock: ContractClock
) -> None:
    job_id = uuid4()
    now = clock.now()
    reassembly_lock.create(job_id, now, TTL_S)
    reassembly_lock.claim(job_id, "worker-a", now, LEASE_S)
    expired = now + timedelta(seconds=TTL_S + 1)
    assert reassembly_lock.claim(job_id, "worker-a", expired, LEASE_S) is False
    assert reassembly_lock.create(job_id, expired, TTL_S) is True  # expired counts as absent
    assert reassembly_lock.claim(job_id, "worker-b", expired, LEASE_S) is True


def test_delete_frees_the_job(reassembly_lock: ReassemblyLock, clock: ContractClock) -> None:
    job_id = uuid4()
    now = clock.now()
    reassembly_lock.create(job_id, now, TTL_S)
    reassembly_lock.delete(job_id)
    assert reassembly_lock.claim(job_id, "worker-a", now, LEASE_S) is False
    assert reassembly_lock.create(job_id, now, TTL_S) is True
    reassembly_lock.delete(uuid4())  # absent is fine


def _race(racers: int, attempt: Callable[[int], bool]) -> list[bool]:
    start = threading.Barrier(racers)
    results: list[bool] = []

    def run(i: int) -> None:
        start.wait()
        results.append(attempt(i))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_racing_creates_and_claims_have_exactly_one_winner(
    reassembly_lock: ReassemblyLock, clock: ContractClock
) -> None:
    job_id = uuid4()
    now = clock.now()
    created = _race(6, lambda _i: reassembly_lock.create(job_id, now, TTL_S))
    assert sorted(created) == [False] * 5 + [True]
    claimed = _race(6, lambda i: reassembly_lock.claim(job_id, f"worker-{i}", now, LEASE_S))
    assert sorted(claimed) == [False] * 5 + [True]
