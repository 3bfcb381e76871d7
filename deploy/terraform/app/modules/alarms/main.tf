# Alarms an operator must hear about, all to one SNS topic:
#   - any dead-letter queue holds a message (a job failed for good: runbook "redrive a DLQ")
#   - a queue's oldest message is older than twice the queue's visibility timeout (workers
#     are not keeping up or cannot start: runbook "a stuck job")
#   - the SageMaker endpoint returns errors, or its oldest request waits over 30 minutes

resource "aws_sns_topic" "alarms" {
  name              = "${var.name}-alarms"
  kms_master_key_id = "alias/aws/sns"
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alarm_email != "" ? 1 : 0
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

resource "aws_cloudwatch_metric_alarm" "dlq_not_empty" {
  for_each            = var.dlq_names
  alarm_name          = "${var.name}-${each.key}-dlq-not-empty"
  alarm_description   = "The ${each.key} dead-letter queue holds messages: see deploy/README.md, redrive a DLQ."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "oldest_message" {
  for_each            = var.queue_names
  alarm_name          = "${var.name}-${each.key}-oldest-message"
  alarm_description   = "A ${each.key} message has waited over ${2 * var.visibility_timeouts[each.key]} s: see deploy/README.md, a stuck job."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 2 * var.visibility_timeouts[each.key]
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "endpoint_errors" {
  count               = var.endpoint_name != "" ? 1 : 0
  alarm_name          = "${var.name}-inference-errors"
  alarm_description   = "The inference endpoint answered with server errors (engine faults, out of memory): see its logs."
  namespace           = "AWS/SageMaker"
  metric_name         = "Invocation5XXErrors"
  dimensions          = { EndpointName = var.endpoint_name, VariantName = "AllTraffic" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}

resource "aws_cloudwatch_metric_alarm" "endpoint_oldest_request" {
  count               = var.endpoint_name != "" ? 1 : 0
  alarm_name          = "${var.name}-inference-oldest-request"
  alarm_description   = "An inference request has waited over 30 minutes: the endpoint cannot scale out (instance quota?) or is failing."
  namespace           = "AWS/SageMaker"
  metric_name         = "ApproximateAgeOfOldestRequest"
  dimensions          = { EndpointName = var.endpoint_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1800
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
}
