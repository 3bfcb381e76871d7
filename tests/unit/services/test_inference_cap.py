"""The in-flight cap of async inference, on memory adapters: slots taken per invocation,
a segment finding none offered again later, slots freed by results and failures."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from stereospot.domain.errors import InferenceError
from stereospot.domain.model import JobStatus
from stereospot.domain.ports import ConversionRequest, ConversionResult, ProgressCallback
from stereospot.domain.services.conversion import slot_holder
from tests.unit.fakes import FakeAsyncInference, World, drain, make_world, new_job, upload

CAP = 1


class CappedAsyncInference(FakeAsyncInference):
    """An async endpoint that checks, at every invocation, the slots held in the store."""

    asynchronous = True

    def __init__(self, world: World, fail_first: bool = False) -> None:
        super().__init__(world.storage)
        self.world = world
        self.live_at_invocation: list[int] = []
        self.fail_first = fail_first

    def convert(
        self, request: ConversionRequest, on_progress: ProgressCallback | None = None
    ) -> ConversionResult:
        deps = self.world.deps
        self.live_at_invocation.append(deps.invocations.live_slots(deps.clock.now(), CAP + 3))
        if self.fail_first:
            self.fail_first = False
            raise InferenceError("the endpoint refused the call")
        return super().convert(request, on_progress)


def capped_world(tmp_path: Path, fail_first: bool = False) -> tuple[World, CappedAsyncInference]:
    world = make_world(tmp_path, async_inference=True)
    backend = CappedAsyncInference(world, fail_first)
    world.deps = replace(
        world.deps,
        inference=backend,
        policy=replace(world.deps.policy, max_in_flight=CAP, slot_wait_s=5),
    )
    return world, backend


def test_segments_wait_for_a_slot_and_the_job_completes(tmp_path: Path) -> None:
    world, backend = capped_world(tmp_path)
    job_id = new_job(world)
    upload(world, job_id, segments=3)
    drain(world)
    job = world.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.COMPLETED
    assert len(backend.requests) == 3
    assert backend.live_at_invocation == [1, 1, 1]  # its own slot, never another's too
    assert world.deps.invocations.live_slots(world.clock.now(), CAP) == 0


def test_a_failed_invocation_gives_its_slot_back(tmp_path: Path) -> None:
    world, _ = capped_world(tmp_path, fail_first=True)
    job_id = new_job(world)
    upload(world, job_id, segments=2)
    drain(world)
    job = world.deps.jobs.get(job_id)
    assert job is not None and job.status is JobStatus.COMPLETED
    now = world.clock.now()
    assert world.deps.invocations.live_slots(now, CAP) == 0
    assert world.deps.invocations.acquire_slot(slot_holder(job_id, 0), now, 60, CAP) == 0
