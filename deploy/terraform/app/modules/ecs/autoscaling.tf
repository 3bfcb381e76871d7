# Workers scale on the depth of the queues they consume, from zero and back to zero.
#
# Backlog-per-task math. For a worker consuming queues Q:
#
#   backlog  B = sum over q in Q of (ApproximateNumberOfMessagesVisible(q)
#                                    + ApproximateNumberOfMessagesNotVisible(q))
#   desired  N = min(max_tasks, ceil(B / messages_per_task))
#
# messages_per_task is the backlog one task may hold: the acceptable wait divided by the
# time one message takes. A video segment through a GPU endpoint takes about a minute and
# waiting one more segment is fine, so the video-worker defaults to 2; a chunking or
# reassembly job holds a media task for minutes, so the media-worker defaults to 1.
# In-flight (not visible) messages count, so a task busy with its message is never
# counted as spare capacity. With 2 messages per task and 8 tasks at most, a backlog of
# 5 gives ceil(5/2) = 3 tasks, and 40 gives 8.
#
# Application Auto Scaling has no "divide by capacity" target that works from zero
# (target tracking multiplies the current capacity), so the formula is a step policy with
# ExactCapacity: step k (k = 1..max_tasks) covers B in [(k-1)*T + 1, k*T] and sets k tasks
# (T = messages_per_task; step bounds are relative to the alarm threshold B >= 1). The
# alarm stays in ALARM while B >= 1, and CloudWatch re-invokes a scaling action every
# minute it stays there, so N follows B up and down. A second alarm sets 0 tasks once B
# has been 0 for idle_minutes. A task stopped by a scale-in gets SIGTERM, finishes or
# hands back its message within grace_seconds (ECS waits stopTimeout = 120 s), and the
# message reappears for the remaining tasks.
#
# SQS publishes these metrics once a minute; a queue idle for hours can take several
# minutes to report again, which bounds the cold start (deploy/README.md, scaling limits).

locals {
  scaled = {
    media-worker = var.media_worker
    video-worker = var.video_worker
  }

  # One CloudWatch metric query per (queue, metric) of each worker.
  backlog_metrics = {
    for service in keys(local.scaled) : service => flatten([
      for i, queue in local.consumes[service] : [
        for metric in ["ApproximateNumberOfMessagesVisible", "ApproximateNumberOfMessagesNotVisible"] : {
          id     = "${metric == "ApproximateNumberOfMessagesVisible" ? "v" : "n"}${i}"
          metric = metric
          queue  = var.queue_names[queue]
        }
      ]
    ])
  }
}

resource "aws_appautoscaling_target" "worker" {
  for_each           = local.scaled
  service_namespace  = "ecs"
  resource_id        = "service/${aws_ecs_cluster.this.name}/${aws_ecs_service.worker[each.key].name}"
  scalable_dimension = "ecs:service:DesiredCount"
  min_capacity       = 0
  max_capacity       = each.value.max_tasks
}

resource "aws_appautoscaling_policy" "backlog" {
  for_each           = local.scaled
  name               = "${var.name}-${each.key}-backlog"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.worker[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.worker[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.worker[each.key].scalable_dimension

  step_scaling_policy_configuration {
    adjustment_type         = "ExactCapacity"
    cooldown                = 60
    metric_aggregation_type = "Maximum"

    dynamic "step_adjustment" {
      for_each = range(1, each.value.max_tasks + 1)
      content {
        metric_interval_lower_bound = (step_adjustment.value - 1) * each.value.messages_per_task
        metric_interval_upper_bound = step_adjustment.value < each.value.max_tasks ? step_adjustment.value * each.value.messages_per_task : null
        scaling_adjustment          = step_adjustment.value
      }
    }
  }
}

resource "aws_appautoscaling_policy" "idle" {
  for_each           = local.scaled
  name               = "${var.name}-${each.key}-to-zero"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.worker[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.worker[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.worker[each.key].scalable_dimension

  step_scaling_policy_configuration {
    adjustment_type         = "ExactCapacity"
    cooldown                = 60
    metric_aggregation_type = "Maximum"
    step_adjustment {
      metric_interval_upper_bound = 0
      scaling_adjustment          = 0
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "backlog" {
  for_each            = local.scaled
  alarm_name          = "${var.name}-${each.key}-backlog"
  alarm_description   = "Messages wait or are in flight for ${each.key}: set its tasks to ceil(backlog / ${each.value.messages_per_task})."
  comparison_operator = "GreaterThanOrEqualToThreshold"
  threshold           = 1
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_appautoscaling_policy.backlog[each.key].arn]

  metric_query {
    id          = "backlog"
    expression  = "SUM([${join(", ", [for m in local.backlog_metrics[each.key] : m.id])}])"
    label       = "messages visible + in flight"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.backlog_metrics[each.key]
    content {
      id = metric_query.value.id
      metric {
        namespace   = "AWS/SQS"
        metric_name = metric_query.value.metric
        dimensions  = { QueueName = metric_query.value.queue }
        period      = 60
        stat        = "Maximum"
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "idle" {
  for_each            = local.scaled
  alarm_name          = "${var.name}-${each.key}-idle"
  alarm_description   = "Nothing visible or in flight for ${each.key} for ${var.idle_minutes} minutes: scale it to zero."
  comparison_operator = "LessThanOrEqualToThreshold"
  threshold           = 0
  evaluation_periods  = var.idle_minutes
  datapoints_to_alarm = var.idle_minutes
  # No data from an idle queue counts as empty.
  treat_missing_data = "breaching"
  alarm_actions      = [aws_appautoscaling_policy.idle[each.key].arn]

  metric_query {
    id          = "backlog"
    expression  = "SUM([${join(", ", [for m in local.backlog_metrics[each.key] : m.id])}])"
    label       = "messages visible + in flight"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.backlog_metrics[each.key]
    content {
      id = metric_query.value.id
      metric {
        namespace   = "AWS/SQS"
        metric_name = metric_query.value.metric
        dimensions  = { QueueName = metric_query.value.queue }
        period      = 60
        stat        = "Maximum"
      }
    }
  }
}
