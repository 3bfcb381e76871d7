"""Operator links on AWS job pages (STEREOSPOT_OPERATOR_LINKS=true): the job's log lines
in CloudWatch Logs Insights, and the stack's cost in Cost Explorer (the App tag), as the
original system offers. Pure URL building; the console does the rest after sign-in."""

from __future__ import annotations

import json
from urllib.parse import quote
from uuid import UUID

from stereospot.config import Settings

LOOKBACK_S = 7 * 24 * 3600


def _console(text: str) -> str:
    """The console's fragment encoding: percent-encoding with '*' for '%'."""
    return quote(text, safe="").replace("%", "*")


def logs_insights_url(settings: Settings, job_id: UUID) -> str:
    """Logs Insights over every service's log group, the query filtered on the job id
    (every log line carries [job=<id> ...])."""
    region = settings.aws.region
    query = (
        f"fields @timestamp, @logStream, @message\n| filter @message like /{job_id}/\n"
        "| sort @timestamp asc\n| limit 1000"
    )
    groups = "".join(f"~'{_console(group)}" for group in settings.aws.log_groups)
    detail = (
        f"~(end~0~start~-{LOOKBACK_S}~timeType~'RELATIVE~unit~'seconds"
        f"~editorString~'{_console(query)}~source~({groups}))"
    )
    return (
        f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}"
        f"#logsV2:logs-insights$3FqueryDetail$3D{detail}"
    )


def cost_explorer_url(settings: Settings) -> str:
    """Cost Explorer, daily unblended cost grouped by service, filtered to the App tag."""
    tag_filter = [
        {
            "dimension": {"id": "TagKey", "displayValue": "Tag"},
            "operator": "INCLUDES",
            "values": [{"value": settings.aws.app_tag, "displayValue": settings.aws.app_tag}],
            "growableValue": {"value": "App", "displayValue": "App"},
        }
    ]
    query = (
        "chartStyle=STACK&costAggregate=unBlendedCost&granularity=Daily"
        "&groupBy=%5B%22Service%22%5D&historicalRelativeRange=LAST_30_DAYS"
        f"&filter={quote(json.dumps(tag_filter, separators=(',', ':')), safe='')}"
    )
    return f"https://us-east-1.console.aws.amazon.com/costmanagement/home#/cost-explorer?{query}"


def links(settings: Settings, job_id: UUID) -> list[tuple[str, str]]:
    """(label, url) pairs for a job page; empty unless enabled (the web app uses them only
    where the platform offers console links: aws)."""
    if not settings.operator_links:
        return []
    return [
        ("Logs of this job (CloudWatch Logs Insights)", logs_insights_url(settings, job_id)),
        ("Cost of this stack (Cost Explorer, App tag)", cost_explorer_url(settings)),
    ]


def no_links(job_id: UUID) -> list[tuple[str, str]]:
    """A platform without a cloud console."""
    return []
