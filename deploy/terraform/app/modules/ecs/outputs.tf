output "cluster_name" {
  description = "Name of the ECS cluster."
  value       = aws_ecs_cluster.this.name
}

output "service_names" {
  description = "ECS service names by service (web, media-worker, video-worker)."
  value = merge(
    { web = aws_ecs_service.web.name },
    { for key, service in aws_ecs_service.worker : key => service.name },
  )
}

output "task_role_arns" {
  description = "Task role ARN of each service."
  value       = { for key, role in aws_iam_role.task : key => role.arn }
}

output "log_groups" {
  description = "CloudWatch log group of each service (aws logs tail GROUP --follow)."
  value       = { for key, group in aws_cloudwatch_log_group.service : key => group.name }
}
