"""One wording table: the progress stage, the page's chip, the API's snapshot and the
cancel refusal all say what STATUS_WORDING says, for every status."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from stereospot.domain import policies
from stereospot.domain.model import TERMINAL_STATUSES, Job, JobStatus
from stereospot.domain.wording import STATUS_WORDING
from stereospot.entrypoints.web.presenters import PAGE_WORDING, JobView

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_every_status_has_its_words() -> None:
    assert set(STATUS_WORDING) == set(JobStatus)
    for words in STATUS_WORDING.values():
        assert words.label and words.stage and words.doing


@pytest.mark.parametrize("status", list(JobStatus))
def test_the_stage_and_the_label_come_from_the_table(status: JobStatus) -> None:
    job = Job(id=uuid4(), status=status, created_at=T0, total_segments=2)
    progress = policies.progress(job, [0])
    view = JobView(job, progress)
    assert progress.stage == STATUS_WORDING[status].stage
    assert view.status_label == STATUS_WORDING[status].label
    snapshot = view.snapshot()
    assert (snapshot["status_label"], snapshot["stage"]) == (view.status_label, view.stage)


def test_a_completed_job_counts_every_segment() -> None:
    job = Job(id=uuid4(), status=JobStatus.COMPLETED, created_at=T0, total_segments=3)
    progress = policies.progress(job, [])  # its completions need not be read
    assert (progress.segments_done, progress.percent) == (3, 100.0)


def test_the_pages_script_gets_the_terminal_statuses() -> None:
    assert set(PAGE_WORDING["terminal_statuses"].split()) == {s.value for s in TERMINAL_STATUSES}
