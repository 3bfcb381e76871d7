# SageMaker asynchronous inference (mode = "sagemaker"): model, endpoint configuration,
# endpoint, and autoscaling down to zero instances.
#
# - max_concurrent_invocations_per_instance = 1: an instance pulls one request at a time
#   from the endpoint's internal queue (one conversion per GPU), so work spreads over
#   instances.
# - Results and failures land in the output bucket under sagemaker-async-responses/ and
#   sagemaker-async-failures/; the bucket's notifications route both to output-events,
#   where the video-worker completes or fails the segment.
# - Scaling: target tracking keeps ApproximateBacklogSizePerInstance near
#   backlog_per_instance and scales in to 0 when the backlog is empty; target tracking
#   cannot scale out from 0 (it multiplies the current capacity), so an alarm on
#   HasBacklogWithoutCapacity adds the first instance.
#
# In mode = "http" or "triton" nothing is created here: the video-worker calls http_url.

locals {
  sagemaker = var.mode == "sagemaker"
  enabled   = local.sagemaker ? 1 : 0
  variant   = "AllTraffic"
}

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  count              = local.enabled
  name               = "${var.name}-inference"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "execution" {
  #checkov:skip=CKV_AWS_111:the EC2 network-interface actions SageMaker needs to place a model in the VPC take no resource ARNs; every other write names its bucket prefix
  #checkov:skip=CKV_AWS_356:"*" only where AWS has no resource-level permissions (ecr:GetAuthorizationToken, cloudwatch:PutMetricData, the VPC network-interface actions); each is commented
  #checkov:skip=CKV_AWS_109:ec2:CreateNetworkInterfacePermission is what SageMaker's VPC mode requires on the interfaces it creates; it cannot be scoped to an ARN
  statement {
    sid       = "PullImage"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = [var.inference_repository_arn]
  }
  statement {
    # GetAuthorizationToken has no resource-level permissions: AWS requires "*".
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }
  statement {
    sid     = "Logs"
    actions = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = [
      "arn:aws:logs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:log-group:/aws/sagemaker/Endpoints/${var.name}*",
    ]
  }
  statement {
    # PutMetricData has no resource-level permissions: AWS requires "*" (limited to
    # SageMaker's namespace by the condition).
    sid       = "Metrics"
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringLike"
      variable = "cloudwatch:namespace"
      values   = ["/aws/sagemaker/*", "AWS/SageMaker"]
    }
  }
  statement {
    # Creating the endpoint configuration checks the role may list its output bucket.
    sid     = "ListBuckets"
    actions = ["s3:ListBucket"]
    resources = [
      "arn:aws:s3:::${var.input_bucket}",
      "arn:aws:s3:::${var.output_bucket}",
    ]
  }
  statement {
    sid     = "ReadRequestsAndSegments"
    actions = ["s3:GetObject"]
    resources = [
      "arn:aws:s3:::${var.input_bucket}/segments/*",
      "arn:aws:s3:::${var.input_bucket}/sagemaker-invocation-requests/*",
    ]
  }
  statement {
    sid     = "WriteResults"
    actions = ["s3:PutObject", "s3:AbortMultipartUpload"]
    resources = [
      "arn:aws:s3:::${var.output_bucket}/jobs/*",
      "arn:aws:s3:::${var.output_bucket}/sagemaker-async-responses/*",
      "arn:aws:s3:::${var.output_bucket}/sagemaker-async-failures/*",
    ]
  }
  statement {
    # The network interfaces of a model in a VPC; these EC2 actions take no resource ARNs
    # at creation time, so AWS requires "*".
    sid = "VpcNetworkInterfaces"
    actions = [
      "ec2:CreateNetworkInterface",
      "ec2:CreateNetworkInterfacePermission",
      "ec2:DeleteNetworkInterface",
      "ec2:DeleteNetworkInterfacePermission",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeVpcs",
      "ec2:DescribeDhcpOptions",
      "ec2:DescribeSubnets",
      "ec2:DescribeSecurityGroups",
    ]
    resources = ["*"]
  }
  dynamic "statement" {
    for_each = var.hf_token_arn != "" ? [var.hf_token_arn] : []
    content {
      sid       = "ReadHfToken"
      actions   = ["secretsmanager:GetSecretValue"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "execution" {
  count  = local.enabled
  name   = "inference-endpoint"
  role   = aws_iam_role.execution[0].id
  policy = data.aws_iam_policy_document.execution.json
}

resource "aws_security_group" "endpoint" {
  #checkov:skip=CKV2_AWS_5:attached to the SageMaker model's vpc_config, a connection checkov does not follow
  count       = local.enabled
  name        = "${var.name}-inference"
  description = "Inference containers: outbound HTTPS only (S3, Secrets Manager, model download)"
  vpc_id      = var.vpc_id

  egress {
    description = "HTTPS to AWS endpoints and the model hub"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_sagemaker_model" "this" {
  #checkov:skip=CKV_AWS_370:the container reads and writes s3:// URIs itself (the SageMaker contract of inference_server), which network isolation forbids; it runs in private subnets instead
  count              = local.enabled
  name               = "${var.name}-stereo"
  execution_role_arn = aws_iam_role.execution[0].arn

  primary_container {
    image       = var.image_uri
    environment = var.environment
  }

  vpc_config {
    subnets            = var.subnet_ids
    security_group_ids = [aws_security_group.endpoint[0].id]
  }

  lifecycle {
    precondition {
      condition     = var.image_uri != ""
      error_message = "sagemaker mode needs the inference image: push it to the inference repository and set inference_image_tag."
    }
  }

  depends_on = [aws_iam_role_policy.execution]
}

resource "aws_sagemaker_endpoint_configuration" "this" {
  #checkov:skip=CKV_AWS_98:the instance volumes hold only the model and a segment in flight; SageMaker encrypts them with its AWS-managed key
  count = local.enabled
  name  = "${var.name}-stereo-async"

  production_variants {
    variant_name           = local.variant
    model_name             = aws_sagemaker_model.this[0].name
    instance_type          = var.instance_type
    initial_instance_count = 1
    # The model loads at start (weights download, warm-up) before /ping answers 200.
    container_startup_health_check_timeout_in_seconds = 900
  }

  async_inference_config {
    output_config {
      s3_output_path  = "s3://${var.output_bucket}/sagemaker-async-responses/"
      s3_failure_path = "s3://${var.output_bucket}/sagemaker-async-failures/"
    }
    client_config {
      max_concurrent_invocations_per_instance = 1
    }
  }

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [aws_iam_role_policy.execution]
}

resource "aws_sagemaker_endpoint" "this" {
  count                = local.enabled
  name                 = "${var.name}-stereo"
  endpoint_config_name = aws_sagemaker_endpoint_configuration.this[0].name
}

resource "aws_appautoscaling_target" "endpoint" {
  count              = local.enabled
  service_namespace  = "sagemaker"
  resource_id        = "endpoint/${aws_sagemaker_endpoint.this[0].name}/variant/${local.variant}"
  scalable_dimension = "sagemaker:variant:DesiredInstanceCount"
  min_capacity       = 0
  max_capacity       = var.max_instances
}

resource "aws_appautoscaling_policy" "backlog" {
  count              = local.enabled
  name               = "${var.name}-backlog-per-instance"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.endpoint[0].service_namespace
  resource_id        = aws_appautoscaling_target.endpoint[0].resource_id
  scalable_dimension = aws_appautoscaling_target.endpoint[0].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.backlog_per_instance
    scale_in_cooldown  = var.scale_in_cooldown_s
    scale_out_cooldown = 120

    customized_metric_specification {
      metric_name = "ApproximateBacklogSizePerInstance"
      namespace   = "AWS/SageMaker"
      statistic   = "Average"
      dimensions {
        name  = "EndpointName"
        value = aws_sagemaker_endpoint.this[0].name
      }
    }
  }
}

resource "aws_appautoscaling_policy" "from_zero" {
  count              = local.enabled
  name               = "${var.name}-scale-from-zero"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.endpoint[0].service_namespace
  resource_id        = aws_appautoscaling_target.endpoint[0].resource_id
  scalable_dimension = aws_appautoscaling_target.endpoint[0].scalable_dimension

  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    cooldown                = 300
    metric_aggregation_type = "Average"
    step_adjustment {
      metric_interval_lower_bound = 0
      scaling_adjustment          = 1
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "backlog_without_capacity" {
  count               = local.enabled
  alarm_name          = "${var.name}-inference-backlog-without-capacity"
  alarm_description   = "Requests wait and the endpoint has no instance: add one (scale from zero)."
  namespace           = "AWS/SageMaker"
  metric_name         = "HasBacklogWithoutCapacity"
  dimensions          = { EndpointName = aws_sagemaker_endpoint.this[0].name }
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_appautoscaling_policy.from_zero[0].arn]
}
