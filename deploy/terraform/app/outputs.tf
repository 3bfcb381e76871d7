output "environment" {
  description = "The STEREOSPOT_* variables of this stack as a map (what the ECS tasks get, secrets aside)."
  value       = local.environment
}

output "env_file" {
  description = "The same variables as a shell env file, one NAME='value' a line (values hold no single quote): terraform output -raw env_file > stereospot.env; set -a; . ./stereospot.env; set +a."
  value       = join("", [for name, value in local.environment : "${name}='${value}'\n"])
}

output "public_url" {
  description = "Address of the web app."
  value       = local.public_url
}

output "load_balancer_dns" {
  description = "DNS name of the load balancer (the target of the site's CNAME or alias record)."
  value       = module.alb.dns_name
}

output "repository_urls" {
  description = "ECR repository of each image (web, worker, inference) for docker tag and push."
  value       = module.ecr.repository_urls
}

output "cluster_name" {
  description = "ECS cluster name (aws ecs ... --cluster)."
  value       = module.ecs.cluster_name
}

output "service_names" {
  description = "ECS service of web, media-worker and video-worker."
  value       = module.ecs.service_names
}

output "log_groups" {
  description = "CloudWatch log group of each service."
  value       = module.ecs.log_groups
}

output "dlq_urls" {
  description = "Dead-letter queue URL by queue name (for inspection and redrive)."
  value       = module.queues.dlq_urls
}

output "alarm_topic_arn" {
  description = "SNS topic of the alarms."
  value       = module.alarms.topic_arn
}

output "secret_arns" {
  description = "Secrets Manager ARNs: signing secret, VAPID private key, HF token, yt-dlp cookies and the web password hash (empty when not created)."
  value = {
    signing_secret    = module.secrets.signing_secret_arn
    vapid_private_key = module.secrets.vapid_private_key_arn
    hf_token          = module.secrets.hf_token_arn
    ytdlp_cookies     = module.secrets.ytdlp_cookies_arn
    auth_password     = module.secrets.auth_password_hash_arn
  }
}

output "sagemaker_endpoint" {
  description = "Name of the SageMaker async endpoint; empty in http mode."
  value       = module.inference.endpoint_name
}
