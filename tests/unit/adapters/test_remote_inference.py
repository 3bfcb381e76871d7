"""What the remote inference backends share (adapters/inference/remote.py): the options read
from settings and the readiness wait at worker start."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stereospot.adapters.inference.remote import RemoteOptions, wait_until_ready
from stereospot.config import Settings
from stereospot.domain.errors import BackendMisconfigured


def answers(*replies: str | Exception | None) -> Callable[[], str | None]:
    """A readiness probe answering `replies` in turn (an exception is raised)."""
    pending = list(replies)

    def probe() -> str | None:
        reply = pending.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    return probe


def test_the_options_come_from_the_inference_settings() -> None:
    settings = Settings(
        inference_connect_timeout_s=2,
        inference_read_timeout_s=90,
        inference_retries=7,
        inference_retry_base_s=0.25,
        inference_ready_timeout_s=12,
    )
    assert RemoteOptions.from_settings(settings) == RemoteOptions(
        connect_timeout_s=2, read_timeout_s=90, retries=7, retry_base_s=0.25, ready_timeout_s=12
    )


def test_waits_while_not_ready_or_failing_with_a_listed_error() -> None:
    sleeps: list[float] = []
    probe = answers("loading", ConnectionError("refused"), None)
    wait_until_ready(
        probe, server="s", timeout_s=60, errors=(ConnectionError,), sleep=sleeps.append
    )
    assert sleeps == [1.0, 1.0]


def test_gives_up_after_the_timeout_naming_the_server_and_the_last_reason() -> None:
    probe = answers("loading", ConnectionError("refused"))
    with pytest.raises(BackendMisconfigured) as raised:
        wait_until_ready(
            probe, server="the X at h", timeout_s=0, errors=(ConnectionError,), sleep=print
        )
    assert str(raised.value) == "the X at h was not ready within 0 s (loading)"


def test_a_listed_error_as_the_last_reason_is_its_type_and_message_on_one_line() -> None:
    probe = answers(ConnectionError("connection\n   refused"))
    with pytest.raises(BackendMisconfigured, match=r"\(ConnectionError: connection refused\)$"):
        wait_until_ready(probe, server="s", timeout_s=0, errors=(OSError,), sleep=print)


def test_an_error_it_does_not_list_is_raised_at_once() -> None:
    sleeps: list[float] = []
    with pytest.raises(BackendMisconfigured, match="unknown endpoint"):
        wait_until_ready(
            answers(BackendMisconfigured("unknown endpoint")),
            server="s",
            timeout_s=60,
            errors=(ConnectionError,),
            sleep=sleeps.append,
        )
    assert sleeps == []
