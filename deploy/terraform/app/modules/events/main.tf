# DynamoDB streams (jobs, segment completions) -> EventBridge Pipes -> the job-events queue.
# No input template: each message body is one stream record, the shape
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
    sid       = "DeliverEvents"
    actions   = ["sqs:SendMessage"]
    resources = [var.queue_arn, var.dead_letter_arn]
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
  target   = var.queue_arn

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
