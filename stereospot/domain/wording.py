"""How each job status reads to a person: the one table the pages, the API, the live
updates, the CLI and the use cases' error sentences take their words from."""

from __future__ import annotations

from dataclasses import dataclass

from stereospot.domain.model import JobStatus


@dataclass(frozen=True)
class StatusWording:
    label: str  # the short chip: "Converting"
    stage: str  # what is happening, beside the progress bar: "Converting to 3D"
    doing: str  # in a sentence, "it is ...": "converting" (in progress statuses only)


STATUS_WORDING: dict[JobStatus, StatusWording] = {
    JobStatus.CREATED: StatusWording("Waiting for upload", "Waiting for upload", "waiting"),
    JobStatus.INGESTING: StatusWording(
        "Downloading", "Downloading source", "downloading its video"
    ),
    JobStatus.CHUNKING_IN_PROGRESS: StatusWording(
        "Preparing", "Splitting into segments", "preparing its segments"
    ),
    JobStatus.CHUNKING_COMPLETE: StatusWording("Converting", "Converting to 3D", "converting"),
    JobStatus.REASSEMBLING: StatusWording("Finishing", "Joining segments", "finishing"),
    JobStatus.COMPLETED: StatusWording("Completed", "Completed", "completed"),
    JobStatus.FAILED: StatusWording("Failed", "Failed", "failed"),
    JobStatus.DELETED: StatusWording("Removed", "Removed", "removed"),
}

# Stages of a job that is still CREATED, which the status alone does not tell apart.
STAGE_WAITING_TO_DOWNLOAD = "Waiting to download"
STAGE_UPLOADED = "Uploaded, waiting to start"
