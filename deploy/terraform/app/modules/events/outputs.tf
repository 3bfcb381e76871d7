output "pipe_arns" {
  description = "ARN of each pipe by the stream's key."
  value       = { for key, pipe in aws_pipes_pipe.this : key => pipe.arn }
}

output "role_arn" {
  description = "ARN of the role the pipes run as."
  value       = aws_iam_role.pipes.arn
}

output "topic_arn" {
  description = "ARN of the job-events SNS topic every web task subscribes its own queue to."
  value       = aws_sns_topic.job_events.arn
}
