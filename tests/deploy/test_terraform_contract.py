"""deploy/terraform against the Python side: routing, queues, settings names, tags.

Offline: the modules are parsed with python-hcl2 (terraform init/validate would need the
providers). What Terraform takes from the domain comes from stack.json, which must equal
what tests/deploy/stack_spec.py builds from the routing table and the settings today.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel

from stereospot.config import AwsSettings, QueueTimeouts, Settings
from stereospot.domain.routing import (
    INFERENCE_FAILURE_PREFIX,
    INFERENCE_RESPONSE_PREFIX,
    ROUTES,
    QueueName,
)
from stereospot.entrypoints.workers.runner import QUEUES, Role
from tests.deploy.hcl import APP, SETUP, all_module_dirs, app_module_dirs, load, statements
from tests.deploy.stack_spec import (
    JOB_EVENTS_QUEUE,
    STACK_JSON,
    expected_spec,
    render,
)

MODULES = APP / "modules"


def stack() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(STACK_JSON.read_text(encoding="utf-8"))
    return spec


def settings_names() -> set[str]:
    """Every STEREOSPOT_* variable Settings reads (nested groups with a double underscore)."""
    names = set()
    for name, info in Settings.model_fields.items():
        top = f"STEREOSPOT_{name.upper()}"
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.update(f"{top}__{sub.upper()}" for sub in annotation.model_fields)
        else:
            names.add(top)
    return names


# ------------------------------------------------------------------ stack.json


def test_stack_json_is_what_the_domain_and_settings_say_now() -> None:
    assert STACK_JSON.read_text(encoding="utf-8") == render(expected_spec()), (
        "deploy/terraform/app/stack.json is stale: run python -m tests.deploy.stack_spec"
    )


def test_the_app_reads_stack_json_and_passes_it_to_its_modules() -> None:
    app = load(APP)
    assert app.locals["stack"] == '${jsondecode(file("${path.module}/stack.json"))}'
    assert app.module("storage")["notifications"] == "${local.stack.notifications}"
    assert app.module("queues")["visibility_timeouts"] == "${local.queues}"
    assert app.locals["queues"] == "${local.stack.queues}"
    assert app.module("queues")["max_receives"] == "${local.stack.max_receives}"
    assert app.module("alarms")["visibility_timeouts"] == "${local.queues}"


# ------------------------------------------------------------------ notifications


def test_notifications_equal_the_domain_routing_table() -> None:
    declared = {
        (bucket, n["prefix"], n["suffix"], n["queue"])
        for bucket, notifications in stack()["notifications"].items()
        for n in notifications
    }
    routes = {(r.bucket.value, r.prefix, r.suffix, r.queue.value) for r in ROUTES}
    assert declared == routes


def test_the_storage_module_makes_one_notification_per_route() -> None:
    storage = load(MODULES / "storage")
    notification = storage.resource("aws_s3_bucket_notification", "this")
    assert notification["for_each"] == "${local.buckets}"
    [dynamic] = notification["dynamic"]
    queue = dynamic["queue"]
    assert queue["for_each"] == "${var.notifications[each.key]}"
    [content] = queue["content"]
    assert content["queue_arn"] == "${var.queue_arns[queue.value.queue]}"
    assert content["events"] == ["s3:ObjectCreated:*"]
    assert content["filter_prefix"] == "${queue.value.prefix}"
    assert "queue.value.suffix" in content["filter_suffix"]


def test_each_notified_queue_lets_exactly_its_buckets_send() -> None:
    """The app derives each queue's allowed buckets from the same routes."""
    app = load(APP)
    assert "local.stack.notifications" in app.locals["s3_senders"]
    policy = load(MODULES / "queues").data_of_type("aws_iam_policy_document")[-1].body
    [statement] = policy["statement"]
    assert statement["principals"][0]["identifiers"] == ["s3.amazonaws.com"]
    assert {c["variable"] for c in statement["condition"]} == {
        "aws:SourceArn",
        "aws:SourceAccount",
    }


# ------------------------------------------------------------------ queues


def test_every_queue_has_the_settings_visibility_timeout() -> None:
    queues = stack()["queues"]
    assert set(queues) == {q.value for q in QueueName} | {JOB_EVENTS_QUEUE}
    defaults = QueueTimeouts().by_queue()
    for queue in QueueName:
        assert queues[queue.value] == defaults[queue], queue
    assert stack()["max_receives"] == Settings.model_fields["max_receives"].default


def test_every_queue_has_a_dlq_with_the_receive_limit_and_encryption() -> None:
    queues = load(MODULES / "queues")
    main = queues.resource("aws_sqs_queue", "this")
    dlq = queues.resource("aws_sqs_queue", "dlq")
    assert main["for_each"] == dlq["for_each"] == "${var.visibility_timeouts}"
    assert main["visibility_timeout_seconds"] == "${each.value}"
    assert "deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn" in main["redrive_policy"]
    assert "maxReceiveCount = var.max_receives" in main["redrive_policy"]
    for body in (main, dlq):
        assert body["sqs_managed_sse_enabled"] is True
    assert dlq["message_retention_seconds"] == "${var.dlq_retention_s}"


def test_no_module_makes_a_queue_outside_the_queues_module() -> None:
    for path in all_module_dirs():
        if path != MODULES / "queues":
            assert not load(path).of_type("aws_sqs_queue"), path


# ------------------------------------------------------------------ environment


def test_the_env_file_has_exactly_names_the_settings_read() -> None:
    app = load(APP)
    rendered = set(app.locals["environment_all"])
    known = settings_names()
    assert rendered <= known, f"names no setting reads: {sorted(rendered - known)}"
    aws = {
        f"STEREOSPOT_AWS__{name.upper()}"
        for name in AwsSettings.model_fields
        # emulators' endpoints and a client-side tuning knob are not the stack's names; the
        # single events queue is provision's one-web-task alternative to the topic
        if name
        not in (
            "endpoint_url",
            "sagemaker_runtime_url",
            "multipart_threshold_bytes",
            "job_events_queue_url",
        )
    }
    assert aws <= rendered, (
        f"AwsSettings fields the env file lacks: {sorted(aws - rendered)}; add each to "
        "deploy/terraform/app/env.tf (and its resource), or, if it is not a stack name, "
        "to the exclusions above"
    )
    timeouts = {f"STEREOSPOT_QUEUE_TIMEOUTS__{n.upper()}" for n in QueueTimeouts.model_fields}
    assert timeouts <= rendered
    assert {"STEREOSPOT_PLATFORM", "STEREOSPOT_PUBLIC_URL", "STEREOSPOT_INFERENCE_BACKEND"} <= (
        rendered
    )
    assert app.locals["environment_all"]["STEREOSPOT_PLATFORM"] == "aws"


def test_secrets_and_container_settings_use_names_the_settings_read() -> None:
    app = load(APP)
    ecs = load(MODULES / "ecs")
    known = settings_names()
    # web_secrets is a conditional expression: its names are the STEREOSPOT_ words in it.
    web_secrets = set(re.findall(r"STEREOSPOT_[A-Z_]+", app.locals["web_secrets"]))
    assert web_secrets == {"STEREOSPOT_AUTH_PASSWORD_HASH"}
    for names in (
        app.locals["task_secrets"],
        web_secrets,
        app.locals["inference_environment_all"],
        ecs.locals["task_environment"],
    ):
        assert set(names) <= known, sorted(set(names) - known)


def test_the_env_file_output_renders_the_environment() -> None:
    outputs = {b.name: b.body for b in load(APP).outputs}
    assert "local.environment" in outputs["env_file"]["value"]
    assert outputs["environment"]["value"] == "${local.environment}"
    assert load(APP).module("ecs")["environment"] == "${local.environment}"


# ------------------------------------------------------------------ services


def test_workers_consume_the_queues_their_roles_do() -> None:
    consumes = load(MODULES / "ecs").locals["consumes"]
    assert consumes["media-worker"] == [q.value for q in QUEUES[Role.MEDIA]]
    assert consumes["video-worker"] == [q.value for q in QUEUES[Role.VIDEO]]
    # The web tasks read their own queues of the job-events topic, not a shared queue.
    assert consumes["web"] == []


def test_every_job_event_stream_reaches_the_topic_every_web_task_subscribes_to() -> None:
    events = load(MODULES / "events")
    topic = events.resource("aws_sns_topic", "job_events")
    assert topic["kms_master_key_id"]  # encrypted at rest
    pipe = events.resource("aws_pipes_pipe", "this")
    assert pipe["target"] == "${aws_sns_topic.job_events.arn}"
    streams = {b.name: b.body for b in load(MODULES / "tables").outputs}["stream_arns"]
    assert set(streams["value"]) == {
        "jobs_table",
        "segment_completions_table",
        "segment_progress_table",
    }
    env = load(APP).locals["environment_all"]
    assert env["STEREOSPOT_AWS__JOB_EVENTS_TOPIC_ARN"] == "${module.events.topic_arn}"
    assert env["STEREOSPOT_AWS__WEB_EVENTS_QUEUE_PREFIX"] == "${local.web_events_prefix}"
    assert load(APP).module("ecs")["web_events_prefix"] == "${local.web_events_prefix}"


def test_the_web_role_manages_only_its_own_event_queues() -> None:
    ecs = load(MODULES / "ecs")
    assert ecs.locals["web_event_queues_arn"].endswith(":${var.web_events_prefix}-*")
    [document] = [b.body for b in ecs.data_of_type("aws_iam_policy_document") if b.name == "task"]
    by_sid = {s["sid"]: s for s in statements(document) if "sid" in s}
    own = by_sid["OwnEventQueues"]
    assert own["resources"] == ["${local.web_event_queues_arn}"]
    assert "sqs:CreateQueue" in own["actions"] and "sqs:DeleteQueue" in own["actions"]
    assert by_sid["SubscribeToJobEvents"]["resources"] == ["${var.job_events_topic_arn}"]


def test_workers_scale_on_their_queues_to_zero_and_back() -> None:
    ecs = load(MODULES / "ecs")
    target = ecs.resource("aws_appautoscaling_target", "worker")
    assert target["min_capacity"] == 0
    backlog = ecs.resource("aws_appautoscaling_policy", "backlog")
    config = backlog["step_scaling_policy_configuration"][0]
    assert config["adjustment_type"] == "ExactCapacity"
    idle = ecs.resource("aws_appautoscaling_policy", "idle")
    [step] = idle["step_scaling_policy_configuration"][0]["step_adjustment"]
    assert step["scaling_adjustment"] == 0
    metrics = ecs.locals["backlog_metrics"]
    assert "ApproximateNumberOfMessagesVisible" in metrics
    assert "ApproximateNumberOfMessagesNotVisible" in metrics
    assert "local.consumes[service]" in metrics
    for service in ("media-worker", "video-worker"):
        assert ecs.resource("aws_ecs_service", "worker")["desired_count"] == 0, service


def test_backlog_steps_implement_ceil_of_backlog_per_task() -> None:
    """Step k covers backlog (k-1)*T+1 .. k*T (bounds relative to the threshold of 1)."""
    ecs = load(MODULES / "ecs")
    alarm = ecs.resource("aws_cloudwatch_metric_alarm", "backlog")
    assert alarm["threshold"] == 1
    assert alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold"
    policy = ecs.resource("aws_appautoscaling_policy", "backlog")
    [dynamic] = policy["step_scaling_policy_configuration"][0]["dynamic"]
    step = dynamic["step_adjustment"]
    assert step["for_each"] == "${range(1, each.value.max_tasks + 1)}"
    [content] = step["content"]
    assert content["metric_interval_lower_bound"] == (
        "${(step_adjustment.value - 1) * each.value.messages_per_task}"
    )
    assert (
        "step_adjustment.value * each.value.messages_per_task"
        in (content["metric_interval_upper_bound"])
    )
    assert content["scaling_adjustment"] == "${step_adjustment.value}"

    # The same steps, evaluated: desired = min(max, ceil(backlog / T)).
    def desired(backlog: int, per_task: int, max_tasks: int) -> int:
        for k in range(1, max_tasks + 1):
            low = (k - 1) * per_task
            high = k * per_task if k < max_tasks else None
            if backlog - 1 >= low and (high is None or backlog - 1 < high):
                return k
        raise AssertionError(backlog)

    for backlog in range(1, 60):
        for per_task, most in ((1, 4), (2, 8), (3, 5)):
            assert desired(backlog, per_task, most) == min(most, -(-backlog // per_task))


def test_the_web_service_is_checked_on_healthz() -> None:
    group = load(MODULES / "alb").resource("aws_lb_target_group", "web")
    assert group["health_check"][0]["path"] == "/healthz"
    app_py = (APP.parents[2] / "stereospot" / "entrypoints" / "web" / "app.py").read_text()
    assert '@app.get("/healthz")' in app_py


def test_the_listener_can_authenticate_with_oidc_or_cognito() -> None:
    https = load(MODULES / "alb").resource("aws_lb_listener", "https")
    types = {
        content["type"]
        for dynamic in https["dynamic"]
        for content in dynamic["default_action"]["content"]
    }
    assert types == {"authenticate-oidc", "authenticate-cognito"}
    http = load(MODULES / "alb").resource("aws_lb_listener", "http")
    assert "redirect" in http["default_action"][0]["type"]


# ------------------------------------------------------------------ inference


def test_the_endpoint_takes_one_request_per_instance_and_reports_into_the_output_bucket() -> None:
    inference = load(MODULES / "inference")
    config = inference.resource("aws_sagemaker_endpoint_configuration", "this")
    [async_config] = config["async_inference_config"]
    [client] = async_config["client_config"]
    assert client["max_concurrent_invocations_per_instance"] == 1
    [output] = async_config["output_config"]
    assert output["s3_output_path"] == f"s3://${{var.output_bucket}}/{INFERENCE_RESPONSE_PREFIX}"
    assert output["s3_failure_path"] == f"s3://${{var.output_bucket}}/{INFERENCE_FAILURE_PREFIX}"


def test_the_endpoint_scales_to_zero_and_back_from_it() -> None:
    inference = load(MODULES / "inference")
    target = inference.resource("aws_appautoscaling_target", "endpoint")
    assert target["min_capacity"] == 0
    assert target["scalable_dimension"] == "sagemaker:variant:DesiredInstanceCount"
    backlog = inference.resource("aws_appautoscaling_policy", "backlog")
    tracking = backlog["target_tracking_scaling_policy_configuration"][0]
    metric = tracking["customized_metric_specification"][0]
    assert metric["metric_name"] == "ApproximateBacklogSizePerInstance"
    alarm = inference.resource("aws_cloudwatch_metric_alarm", "backlog_without_capacity")
    assert alarm["metric_name"] == "HasBacklogWithoutCapacity"
    assert alarm["alarm_actions"] == ["${aws_appautoscaling_policy.from_zero[0].arn}"]
    step = inference.resource("aws_appautoscaling_policy", "from_zero")
    adjustment = step["step_scaling_policy_configuration"][0]["step_adjustment"][0]
    assert adjustment["scaling_adjustment"] == 1


# ------------------------------------------------------------------ documentation, tags


def test_every_module_has_its_files_and_documents_variables_and_outputs() -> None:
    for path in all_module_dirs():
        for name in ("main.tf", "variables.tf", "outputs.tf"):
            assert (path / name).is_file(), f"{path} lacks {name}"
        module = load(path)
        assert module.outputs, f"{path} has no outputs"
        for block in module.variables + module.outputs:
            description = block.body.get("description", "")
            assert len(description) > 10, f"{path}: {block.name} has no description"


def test_every_app_module_is_used() -> None:
    sources = {b.body["source"] for b in load(APP).modules}
    assert sources == {f"./modules/{p.name}" for p in app_module_dirs()}


def test_every_resource_is_tagged_app_and_environment() -> None:
    for path in (APP, SETUP):
        [provider] = [p for p in load(path).providers if p.name == "aws"]
        [default_tags] = provider.body["default_tags"]
        assert default_tags["tags"] == {"App": "${var.app}", "Environment": "${var.environment}"}
    for path in app_module_dirs():
        assert not load(path).providers, f"{path}: a module's own provider would lose the tags"


def test_state_locks_in_s3_and_needs_a_terraform_that_can() -> None:
    setup = load(SETUP)
    assert "use_lockfile = true" in json.dumps(setup.locals["backend_config"]).replace('"', "")
    for path in (APP, SETUP):
        [block] = load(path).terraform
        assert re.fullmatch(r">= 1\.1\d", block["required_version"]), path
    [backend] = load(APP).terraform[0]["backend"]
    assert "s3" in backend


def test_the_prefix_rule_is_provisions() -> None:
    """terraform's prefix validation accepts exactly what `stereospot aws provision` does."""
    from stereospot.ops.provision import check_prefix

    [prefix] = [v.body for v in load(APP).variables if v.name == "prefix"]
    [validation] = prefix["validation"]
    pattern = re.search(r'regex\("(.+)", var\.prefix\)', validation["condition"])
    assert pattern
    terraform_rule = re.compile(pattern.group(1).replace("\\\\", "\\"))
    samples = ["dev", "a", "acme-stereo-dev", "x" * 40, "x" * 41, "-dev", "dev-", "Dev", "d_v", ""]
    for sample in samples:
        try:
            check_prefix(sample)
            accepted = True
        except ValueError:
            accepted = False
        assert bool(terraform_rule.search(sample)) == accepted, sample
