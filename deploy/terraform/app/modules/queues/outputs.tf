output "urls" {
  description = "URL of each queue by name."
  value       = { for name, queue in aws_sqs_queue.this : name => queue.id }
}

output "arns" {
  description = "ARN of each queue by name; known only once the S3 send policies exist, so notifications wait for them."
  value       = { for name, queue in aws_sqs_queue.this : name => queue.arn }
  depends_on  = [aws_sqs_queue_policy.s3_send]
}

output "names" {
  description = "Name of each queue by its short name (for CloudWatch metrics)."
  value       = { for name, queue in aws_sqs_queue.this : name => queue.name }
}

output "dlq_arns" {
  description = "ARN of each queue's dead-letter queue by the queue's name."
  value       = { for name, queue in aws_sqs_queue.dlq : name => queue.arn }
}

output "dlq_urls" {
  description = "URL of each queue's dead-letter queue by the queue's name (for redrive)."
  value       = { for name, queue in aws_sqs_queue.dlq : name => queue.id }
}

output "dlq_names" {
  description = "Name of each queue's dead-letter queue by the queue's name (for the alarms)."
  value       = { for name, queue in aws_sqs_queue.dlq : name => queue.name }
}
