# DynamoDB streams (jobs, segment completions, segment progress) -> EventBridge Pipes ->
# the job-events SNS topic -> one SQS queue per web task. Each web task creates its own
# queue ({name}-web-events-<task id>) at start-up, subscribes it with raw message
# delivery, and deletes it at exit (stereospot.adapters.aws.event_fanout), so every task
# receives every event. No input template: each message is one stream record, the shape
# stereospot.adapters.aws.job_events normalises.

data "aws_caller_identity" "current" {}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["pipes.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

# Encrypted at rest with the AWS managed SNS key; the pipes' role may use it through SNS.
data "aws_kms_alias" "sns" {
  name = "alias/aws/sns"
}

resource "aws_sns_topic" "job_events" {
  name              = "${var.name}-job-events"
  kms_master_key_id = data.aws_kms_alias.sns.name
}

resource "aws_iam_role" "pipes" {
  name               = "${var.name}-job-events-pipes"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "pipes" {
  statement {
    sid = "ReadStreams"
    actions = [
      "dynamodb:DescribeStream",
      "dynamodb:GetRecords",
      "dynamodb:GetShardIterator",
      "dynamodb:ListStreams",
    ]
    resources = values(var.stream_arns)
  }
  statement {
    sid       = "PublishEvents"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.job_events.arn]
  }
  statement {
    sid       = "EncryptEvents"
    actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
    resources = [data.aws_kms_alias.sns.target_key_arn]
  }
  statement {
    sid       = "DeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [var.dead_letter_arn]
  }
}

resource "aws_iam_role_policy" "pipes" {
  name   = "streams-to-job-events"
  role   = aws_iam_role.pipes.id
  policy = data.aws_iam_policy_document.pipes.json
}

resource "aws_pipes_pipe" "this" {
  for_each = var.stream_arns

  name     = "${var.name}-${replace(each.key, "_", "-")}-events"
  role_arn = aws_iam_role.pipes.arn
  source   = each.value
  target   = aws_sns_topic.job_events.arn

  source_parameters {
    dynamodb_stream_parameters {
      starting_position      = "LATEST"
      batch_size             = 1
      maximum_retry_attempts = 10
      dead_letter_config {
        arn = var.dead_letter_arn
      }
    }
  }

  depends_on = [aws_iam_role_policy.pipes]
}
