output "backend" {
  description = "Value of STEREOSPOT_INFERENCE_BACKEND for the video-worker: sagemaker, http or triton."
  value       = var.mode
}

output "endpoint_name" {
  description = "Name of the SageMaker async endpoint (STEREOSPOT_AWS__SAGEMAKER_ENDPOINT); empty in http mode."
  value       = local.sagemaker ? aws_sagemaker_endpoint.this[0].name : ""
}

output "endpoint_arn" {
  description = "ARN of the endpoint, for the video-worker's invoke permission; empty in http mode."
  value       = local.sagemaker ? aws_sagemaker_endpoint.this[0].arn : ""
}

output "url" {
  description = "STEREOSPOT_INFERENCE_URL: the inference server in http or triton mode; empty in sagemaker mode."
  value       = local.sagemaker ? "" : var.http_url
}

output "max_in_flight" {
  description = "Invocations the video-workers may have in flight in total: one per instance at most."
  value       = var.max_instances
}
