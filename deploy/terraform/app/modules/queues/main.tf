# Every queue with its dead-letter queue: redrive after max_receives, visibility timeouts
# from the settings, SSE, and (for the queues S3 notifies) a policy that lets only this
# stack's buckets send.

data "aws_caller_identity" "current" {}

resource "aws_sqs_queue" "dlq" {
  for_each                  = var.visibility_timeouts
  name                      = "${var.name}-${each.key}-dlq"
  message_retention_seconds = var.dlq_retention_s
  sqs_managed_sse_enabled   = true
}

resource "aws_sqs_queue" "this" {
  for_each                   = var.visibility_timeouts
  name                       = "${var.name}-${each.key}"
  visibility_timeout_seconds = each.value
  message_retention_seconds  = var.message_retention_s
  sqs_managed_sse_enabled    = true

  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = var.max_receives
  })
}

# A DLQ takes dead letters from its own queue only.
resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  for_each  = var.visibility_timeouts
  queue_url = aws_sqs_queue.dlq[each.key].id

  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.this[each.key].arn]
  })
}

data "aws_iam_policy_document" "s3_send" {
  for_each = var.s3_senders
  statement {
    sid       = "S3Notifications"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.this[each.key].arn]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [for bucket in each.value : "arn:aws:s3:::${bucket}"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_sqs_queue_policy" "s3_send" {
  for_each  = var.s3_senders
  queue_url = aws_sqs_queue.this[each.key].id
  policy    = data.aws_iam_policy_document.s3_send[each.key].json
}
