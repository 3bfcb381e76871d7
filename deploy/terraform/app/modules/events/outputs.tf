output "pipe_arns" {
  description = "ARN of each pipe by the stream's key."
  value       = { for key, pipe in aws_pipes_pipe.this : key => pipe.arn }
}

output "role_arn" {
  description = "ARN of the role the pipes run as."
  value       = aws_iam_role.pipes.arn
}
