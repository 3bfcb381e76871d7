output "dns_name" {
  description = "DNS name of the load balancer (point the site's CNAME or alias here)."
  value       = aws_lb.this.dns_name
}

output "public_url" {
  description = "URL browsers use when no domain is given: http(s)://<load balancer DNS name>."
  value       = "${local.https ? "https" : "http"}://${aws_lb.this.dns_name}"
}

output "target_group_arn" {
  description = "Target group the web service registers its tasks in."
  value       = aws_lb_target_group.web.arn
}

output "security_group_id" {
  description = "Security group of the load balancer (the web tasks accept traffic from it only)."
  value       = aws_security_group.alb.id
}

output "arn_suffix" {
  description = "ARN suffix of the load balancer, for CloudWatch metrics."
  value       = aws_lb.this.arn_suffix
}

output "authenticated" {
  description = "Whether the listener authenticates every request (then STEREOSPOT_AUTH=oidc-header)."
  value       = local.authenticate
}

output "arn" {
  description = "ARN of the load balancer: the signer the web app checks in x-amzn-oidc-data (STEREOSPOT_AUTH_OIDC_SIGNER)."
  value       = aws_lb.this.arn
}

output "idle_timeout_s" {
  description = "Seconds the load balancer keeps an idle connection: the web app keeps its own keep-alive connections longer (STEREOSPOT_HTTP_IDLE_TIMEOUT_S)."
  value       = var.idle_timeout_s
}
