output "topic_arn" {
  description = "SNS topic every alarm notifies (subscribe more endpoints to it)."
  value       = aws_sns_topic.alarms.arn
}
