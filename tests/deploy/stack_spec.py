"""deploy/terraform/app/stack.json: what Terraform takes from the domain and the settings.

The S3 -> SQS notifications (stereospot.domain.routing.ROUTES), every queue with its
visibility timeout (Settings.queue_timeouts, plus the job-events queue of
stereospot aws provision) and the receive count before dead-lettering
(Settings.max_receives). Terraform reads the file with jsondecode(file(...)); the tests
check it equals what this module builds now. After changing the routing table or a
default, regenerate it:

    python -m tests.deploy.stack_spec
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stereospot.config import Settings
from stereospot.domain.routing import ROUTES, Bucket, QueueName

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM = ROOT / "deploy" / "terraform"
APP = TERRAFORM / "app"
STACK_JSON = APP / "stack.json"

# The queue the DynamoDB streams reach through EventBridge Pipes, and its visibility timeout,
# as `stereospot aws provision` creates it.
JOB_EVENTS_QUEUE = "job-events"
JOB_EVENTS_VISIBILITY_S = 30


def expected_spec(settings: Settings | None = None) -> dict[str, Any]:
    # The defaults, not this shell's STEREOSPOT_* variables (model_construct reads no env).
    settings = settings or Settings.model_construct()
    timeouts = settings.queue_timeouts.by_queue()
    queues = {queue.value: timeouts[queue] for queue in QueueName}
    queues[JOB_EVENTS_QUEUE] = JOB_EVENTS_VISIBILITY_S
    notifications: dict[str, list[dict[str, str]]] = {}
    for bucket in Bucket:
        routes = [r for r in ROUTES if r.bucket is bucket]
        notifications[bucket.value] = [
            {
                "id": f"{r.queue.value}-{n}",
                "prefix": r.prefix,
                "suffix": r.suffix,
                "queue": r.queue.value,
            }
            for n, r in enumerate(routes)
        ]
    return {
        "_generated_by": "python -m tests.deploy.stack_spec (do not edit by hand)",
        "max_receives": settings.max_receives,
        "queues": queues,
        "notifications": notifications,
    }


def render(spec: dict[str, Any]) -> str:
    return json.dumps(spec, indent=2) + "\n"


def main() -> None:
    STACK_JSON.write_text(render(expected_spec()), encoding="utf-8")
    print(f"wrote {STACK_JSON.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
