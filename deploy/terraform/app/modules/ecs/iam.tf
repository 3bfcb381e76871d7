# Roles. The execution role (ECS agent) pulls images, writes logs and reads the injected
# secrets. Each service has its own task role with only what that service does:
#
#   web           signs upload URLs (input/), signs download URLs (jobs/), reads jobs,
#                 segment records and push subscriptions, sends deletion and ingest
#                 requests; for live progress, makes, reads and deletes its own queue
#                 of the job-events topic ({web_events_prefix}-<task id>, subscribed at
#                 start-up) and deletes those of dead tasks
#   media-worker  splits and joins videos (input/, segments/, jobs/), removes jobs
#                 (every prefix and record of a job), consumes chunking, reassembly,
#                 deletion and ingest
#   video-worker  converts segments (segments/ -> jobs/), records completions, takes the
#                 reassembly lock, invokes the SageMaker endpoint, consumes video-worker
#                 and output-events
#
# Every statement names its resources. The "*"s are ecr:GetAuthorizationToken and
# sqs:ListQueues, which have no resource-level permissions (AWS requires "*").

data "aws_caller_identity" "current" {}

locals {
  web_event_queues_arn = "arn:aws:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:${var.web_events_prefix}-*"

  bucket_arn = {
    input  = "arn:aws:s3:::${var.input_bucket}"
    output = "arn:aws:s3:::${var.output_bucket}"
  }

  table_actions_read = [
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:DescribeTable",
  ]
  table_actions_write = [
    "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
  ]
  # Opening a queue reads its redrive policy and looks up its DLQ (SqsQueue.open).
  queue_open_actions = ["sqs:GetQueueAttributes", "sqs:GetQueueUrl"]
  queue_consume_actions = [
    "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes", "sqs:GetQueueUrl",
  ]

  consumes = {
    web          = []
    media-worker = ["chunking", "reassembly", "deletion", "ingest"]
    video-worker = ["video-worker", "output-events"]
  }
  sends = {
    web          = ["deletion", "ingest"]
    media-worker = ["reassembly"]
    video-worker = ["reassembly"]
  }
  # Workers move a message that failed its last allowed attempt to the DLQ themselves.
  dead_letters = {
    web          = []
    media-worker = local.consumes["media-worker"]
    video-worker = local.consumes["video-worker"]
  }

  tables_read = {
    web          = ["jobs_table", "segment_completions_table", "segment_progress_table", "push_subscriptions_table"]
    media-worker = keys(var.table_arns)
    video-worker = keys(var.table_arns)
  }
  tables_write = {
    web          = ["jobs_table", "push_subscriptions_table"]
    media-worker = keys(var.table_arns)
    video-worker = keys(var.table_arns)
  }

  objects_read = {
    web = [
      "${local.bucket_arn.input}/input/*",
      "${local.bucket_arn.output}/jobs/*",
    ]
    media-worker = [
      "${local.bucket_arn.input}/input/*",
      "${local.bucket_arn.input}/segments/*",
      "${local.bucket_arn.output}/jobs/*",
    ]
    video-worker = [
      "${local.bucket_arn.input}/segments/*",
      "${local.bucket_arn.output}/jobs/*",
      "${local.bucket_arn.output}/sagemaker-async-responses/*",
      "${local.bucket_arn.output}/sagemaker-async-failures/*",
    ]
  }
  objects_write = {
    web = ["${local.bucket_arn.input}/input/*"]
    media-worker = [
      "${local.bucket_arn.input}/input/*",
      "${local.bucket_arn.input}/segments/*",
      "${local.bucket_arn.output}/jobs/*",
    ]
    video-worker = [
      "${local.bucket_arn.output}/jobs/*",
      "${local.bucket_arn.input}/sagemaker-invocation-requests/*",
    ]
  }
  objects_delete = {
    web = []
    media-worker = [
      "${local.bucket_arn.input}/input/*",
      "${local.bucket_arn.input}/segments/*",
      "${local.bucket_arn.output}/jobs/*",
    ]
    video-worker = [
      "${local.bucket_arn.input}/sagemaker-invocation-requests/*",
      "${local.bucket_arn.output}/sagemaker-async-responses/*",
      "${local.bucket_arn.output}/sagemaker-async-failures/*",
    ]
  }
}

data "aws_iam_policy_document" "ecs_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ecs-tasks.amazonaws.com"]
    }
  }
}

# ------------------------------------------------------------------ execution role

resource "aws_iam_role" "execution" {
  name               = "${var.name}-ecs-execution"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
}

data "aws_iam_policy_document" "execution" {
  statement {
    sid       = "EcrLogin"
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"] # no resource-level permissions: AWS requires "*"
  }
  statement {
    sid       = "PullImages"
    actions   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    resources = values(var.repository_arns)
  }
  statement {
    sid       = "WriteLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for group in aws_cloudwatch_log_group.service : "${group.arn}:*"]
  }
  statement {
    sid       = "ReadInjectedSecrets"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = distinct(concat(values(var.secrets), values(var.web_secrets), values(var.media_secrets)))
  }
}

resource "aws_iam_role_policy" "execution" {
  name   = "pull-log-secrets"
  role   = aws_iam_role.execution.id
  policy = data.aws_iam_policy_document.execution.json
}

# ------------------------------------------------------------------ task roles

resource "aws_iam_role" "task" {
  for_each           = local.consumes
  name               = "${var.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.ecs_assume.json
}

data "aws_iam_policy_document" "task" {
  for_each = local.consumes

  statement {
    sid       = "ListBuckets"
    actions   = ["s3:ListBucket"]
    resources = values(local.bucket_arn)
  }
  statement {
    sid       = "ReadObjects"
    actions   = ["s3:GetObject"]
    resources = local.objects_read[each.key]
  }
  statement {
    sid       = "WriteObjects"
    actions   = ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    resources = local.objects_write[each.key]
  }
  dynamic "statement" {
    for_each = length(local.objects_delete[each.key]) > 0 ? [1] : []
    content {
      sid       = "DeleteObjects"
      actions   = ["s3:DeleteObject"]
      resources = local.objects_delete[each.key]
    }
  }
  statement {
    sid     = "ReadTables"
    actions = local.table_actions_read
    resources = flatten([
      for table in local.tables_read[each.key] :
      [var.table_arns[table], "${var.table_arns[table]}/index/*"]
    ])
  }
  statement {
    sid       = "WriteTables"
    actions   = local.table_actions_write
    resources = [for table in local.tables_write[each.key] : var.table_arns[table]]
  }
  dynamic "statement" {
    for_each = length(each.value) > 0 ? [1] : []
    content {
      sid       = "ConsumeQueues"
      actions   = local.queue_consume_actions
      resources = [for queue in each.value : var.queue_arns[queue]]
    }
  }
  statement {
    sid       = "SendToQueues"
    actions   = concat(["sqs:SendMessage"], local.queue_open_actions)
    resources = [for queue in local.sends[each.key] : var.queue_arns[queue]]
  }
  dynamic "statement" {
    for_each = length(local.dead_letters[each.key]) > 0 ? [1] : []
    content {
      sid       = "DeadLetters"
      actions   = concat(["sqs:SendMessage"], local.queue_open_actions)
      resources = [for queue in local.dead_letters[each.key] : var.dlq_arns[queue]]
    }
  }
  dynamic "statement" {
    for_each = each.key == "web" ? [1] : []
    content {
      sid = "OwnEventQueues" # this task's queue of the job-events topic, and dead tasks'
      actions = [
        "sqs:CreateQueue", "sqs:DeleteQueue", "sqs:TagQueue", "sqs:ListQueueTags",
        "sqs:GetQueueAttributes", "sqs:SetQueueAttributes", "sqs:ReceiveMessage",
        "sqs:DeleteMessage", "sqs:ChangeMessageVisibility",
      ]
      resources = [local.web_event_queues_arn]
    }
  }
  dynamic "statement" {
    for_each = each.key == "web" ? [1] : []
    content {
      sid       = "FindEventQueues" # the start-up sweep lists them by name prefix
      actions   = ["sqs:ListQueues"]
      resources = ["*"] # no resource-level permissions: AWS requires "*"
    }
  }
  dynamic "statement" {
    for_each = each.key == "web" ? [1] : []
    content {
      sid       = "SubscribeToJobEvents"
      actions   = ["sns:Subscribe", "sns:Unsubscribe", "sns:ListSubscriptionsByTopic"]
      resources = [var.job_events_topic_arn]
    }
  }
  dynamic "statement" {
    for_each = each.key == "video-worker" && var.sagemaker_endpoint_arn != "" ? [1] : []
    content {
      sid       = "InvokeEndpoint"
      actions   = ["sagemaker:InvokeEndpointAsync", "sagemaker:DescribeEndpoint"] # its status is checked at start
      resources = [var.sagemaker_endpoint_arn]
    }
  }
}

resource "aws_iam_role_policy" "task" {
  for_each = local.consumes
  name     = "${each.key}-least-privilege"
  role     = aws_iam_role.task[each.key].id
  policy   = data.aws_iam_policy_document.task[each.key].json
}
