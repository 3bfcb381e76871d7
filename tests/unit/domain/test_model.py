"""The job status machine: every (from, to) pair checked against the one table."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from stereospot.domain.errors import IllegalTransition
from stereospot.domain.formats import ConversionSettings, StereoFormat
from stereospot.domain.model import Job, JobStatus, can_transition

S = JobStatus
ALLOWED = {
    (S.CREATED, S.INGESTING),
    (S.INGESTING, S.CREATED),
    (S.CREATED, S.CHUNKING_IN_PROGRESS),
    (S.CHUNKING_IN_PROGRESS, S.CHUNKING_COMPLETE),
    (S.CHUNKING_COMPLETE, S.REASSEMBLING),
    (S.REASSEMBLING, S.COMPLETED),
    (S.COMPLETED, S.DELETED),
    (S.FAILED, S.DELETED),
    *((s, S.FAILED) for s in (S.CREATED, S.INGESTING, S.CHUNKING_IN_PROGRESS)),
    *((s, S.FAILED) for s in (S.CHUNKING_COMPLETE, S.REASSEMBLING)),
}


def _job(status: JobStatus = S.CREATED) -> Job:
    return Job(id=uuid4(), status=status, created_at=datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.parametrize(("current", "new"), list(itertools.product(S, S)))
def test_transition_table_exhaustively(current: JobStatus, new: JobStatus) -> None:
    job = _job(current)
    assert can_transition(current, new) == ((current, new) in ALLOWED)
    if (current, new) in ALLOWED:
        assert job.transition(new).status is new
    else:
        with pytest.raises(IllegalTransition, match=f"cannot go from {current.value}"):
            job.transition(new)


def test_terminal_and_in_progress() -> None:
    assert {s for s in S if s.is_terminal} == {S.COMPLETED, S.FAILED, S.DELETED}
    assert {s for s in S if s.in_progress} == set(S) - {S.COMPLETED, S.FAILED, S.DELETED}


def test_fail_keeps_a_readable_reason_and_the_previous_status() -> None:
    failed = _job(S.CHUNKING_COMPLETE).fail("  The\nfile   is broken. ")
    assert failed.failure_reason == "The file is broken."
    assert failed.status_before_failure is S.CHUNKING_COMPLETE
    assert _job().fail("   ").failure_reason == "The conversion failed."
    assert len(_job().fail("x" * 5000).failure_reason or "") == 1000
    with pytest.raises(IllegalTransition):
        failed.fail("again")


def test_with_changes_cannot_change_status() -> None:
    with pytest.raises(IllegalTransition):
        _job().with_changes(status=S.COMPLETED)
    assert _job().with_changes(title="x").title == "x"


def test_jobs_are_immutable_and_strict() -> None:
    job = _job()
    with pytest.raises(ValidationError):
        job.title = "x"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Job(id=uuid4(), created_at=datetime.now(UTC), unknown=1)  # type: ignore[call-arg]


def test_removable_and_download_name() -> None:
    assert [s for s in S if _job(s).is_removable] == [S.COMPLETED, S.FAILED]
    job = _job().with_changes(title="Été à Paris / 2026", output_format=StereoFormat.FULL_SBS)
    assert job.download_name() == "Ete_a_Paris_2026_LRF_Full_SBS.mp4"
    assert _job().download_name() == "stereospot_LR_Half_SBS.mp4"


@pytest.mark.parametrize(
    "bad",
    [
        {"divergence": 0},
        {"divergence": 10.5},
        {"convergence": -1.1},
        {"pixel_format": "rgb24"},
        {"convergence": 1.1},
        {"synthetic_view": "middle"},
        {"depth_model": ""},
    ],
)
def test_conversion_settings_are_validated(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ConversionSettings(**bad)


def test_every_format_has_a_label_and_a_suffix() -> None:
    assert len({f.label for f in StereoFormat}) == len(StereoFormat)
    assert len({f.player_suffix for f in StereoFormat}) == len(StereoFormat)
