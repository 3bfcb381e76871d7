output "repository_urls" {
  description = "Repository URL of each image (web, worker, inference), for docker push and the task definitions."
  value       = { for name, repo in aws_ecr_repository.this : name => repo.repository_url }
}

output "repository_arns" {
  description = "Repository ARN of each image, for the pull permissions."
  value       = { for name, repo in aws_ecr_repository.this : name => repo.arn }
}
