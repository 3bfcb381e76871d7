"""`stereospot aws provision|smoke-test`: create a stack on an endpoint; check a deployed one."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(subparsers: Any) -> None:
    aws = subparsers.add_parser("aws", help="AWS tools: provision a stack, smoke-test one")
    actions = aws.add_subparsers(dest="aws_action", metavar="ACTION", required=True)

    provision = actions.add_parser(
        "provision",
        help="create buckets, queues and tables named from a prefix; print the env vars",
        description=(
            "Create every resource of a StereoSpot stack (for moto, LocalStack or a test "
            "account; production uses Terraform) and print the variables to export."
        ),
    )
    provision.add_argument("--prefix", required=True, help="resource name prefix, e.g. dev")
    provision.add_argument("--endpoint-url", help="e.g. http://127.0.0.1:5000 (default: AWS)")
    provision.add_argument("--region", help="default: STEREOSPOT_AWS__REGION or us-east-1")
    provision.set_defaults(handler=_provision)

    smoke = actions.add_parser(
        "smoke-test",
        help="check a deployed stack (names from STEREOSPOT_AWS__* variables)",
        description=(
            "Create a job, send a probe through every queue, check presigned upload and "
            "download, then clean up. Exits 1 naming the step that failed."
        ),
    )
    smoke.add_argument(
        "--queue-wait", type=float, default=10.0, help="seconds to wait for each probe message"
    )
    smoke.set_defaults(handler=_smoke_test)


def _provision(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from stereospot.config import Settings
    from stereospot.ops.provision import check_prefix, export_lines, provision_from_settings

    try:
        check_prefix(args.prefix)
    except ValueError as exc:
        print(f"stereospot aws provision: {exc}", file=sys.stderr)
        return 2
    settings = Settings()
    changes = {"endpoint_url": args.endpoint_url, "region": args.region}
    aws = settings.aws.model_copy(update={k: v for k, v in changes.items() if v})
    settings = settings.model_copy(update={"aws": aws})
    try:
        created = provision_from_settings(args.prefix, settings)
    except (BotoCoreError, ClientError) as exc:
        print(f"stereospot aws provision: {exc}", file=sys.stderr)
        return 1
    print("\n".join(export_lines(created)))
    return 0


def _smoke_test(args: argparse.Namespace) -> int:
    from stereospot.config import Settings
    from stereospot.ops.smoke import SmokeTest, StepResult

    def report(result: StepResult) -> None:
        mark = "ok  " if result.ok else "FAIL"
        print(f"{mark} {result.name}: {result.detail}", flush=True)

    test = SmokeTest(Settings(), queue_wait_s=args.queue_wait)
    print(f"smoke test job {test.job_id}", flush=True)
    if test.run(report):
        print("smoke test passed")
        return 0
    print("smoke test FAILED", file=sys.stderr)
    return 1
