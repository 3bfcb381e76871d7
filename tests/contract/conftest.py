"""Contract fixtures: each port fixture is built by every platform that offers that port.

A test asks for port fixtures (job_store, queue, ...) and, when time matters, `clock`; it
then runs once per platform in platforms.FACTORIES that can build all the ports it uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from platforms import (
    FACTORIES,
    PORT_FIXTURES,
    QUEUE_MAX_RECEIVES,
    QUEUE_VISIBILITY_S,
    ContractClock,
    PlatformUnderTest,
)

from stereospot.domain.ports import (
    InferenceInvocationStore,
    JobEvents,
    JobStore,
    ObjectStorage,
    PushSubscriptionStore,
    Queue,
    ReassemblyLock,
    SegmentCompletionStore,
    SegmentProgressStore,
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "platform" not in metafunc.fixturenames:
        return
    wanted = PORT_FIXTURES & set(metafunc.fixturenames)
    only = metafunc.definition.get_closest_marker("platforms")
    names = [
        name
        for name, factory in FACTORIES.items()
        if wanted <= factory.ports and (only is None or name in only.args)
    ]
    metafunc.parametrize("platform", names, indirect=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        callspec = getattr(item, "callspec", None)
        if not item.path.is_relative_to(here) or callspec is None:
            continue
        factory = FACTORIES.get(callspec.params.get("platform", ""))
        reason = factory.deviations.get(getattr(item, "originalname", "")) if factory else None
        if reason:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "platforms(*names): run this contract test on these platforms only"
    )


@pytest.fixture
def platform(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PlatformUnderTest]:
    with FACTORIES[request.param].build(tmp_path) as built:
        yield built


@pytest.fixture
def clock(platform: PlatformUnderTest) -> ContractClock:
    return platform.clock


@pytest.fixture
def job_store(platform: PlatformUnderTest) -> JobStore:
    return platform.job_store()


@pytest.fixture
def completion_store(platform: PlatformUnderTest) -> SegmentCompletionStore:
    return platform.completion_store()


@pytest.fixture
def progress_store(platform: PlatformUnderTest) -> SegmentProgressStore:
    return platform.progress_store()


@pytest.fixture
def reassembly_lock(platform: PlatformUnderTest) -> ReassemblyLock:
    return platform.reassembly_lock()


@pytest.fixture
def invocation_store(platform: PlatformUnderTest) -> InferenceInvocationStore:
    return platform.invocation_store()


@pytest.fixture
def object_storage(platform: PlatformUnderTest) -> ObjectStorage:
    return platform.object_storage()


@pytest.fixture
def queue(platform: PlatformUnderTest) -> Queue:
    return platform.queue(visibility_timeout_s=QUEUE_VISIBILITY_S, max_receives=QUEUE_MAX_RECEIVES)


@pytest.fixture
def dlq(queue: Queue) -> Queue:
    return queue.dead_letters()


@pytest.fixture
def job_events(platform: PlatformUnderTest) -> JobEvents:
    return platform.job_events()


@pytest.fixture
def push_subscriptions(platform: PlatformUnderTest) -> PushSubscriptionStore:
    return platform.push_subscriptions()
