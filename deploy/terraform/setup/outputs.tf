output "state_bucket" {
  description = "Name of the bucket that holds the app stack's state."
  value       = aws_s3_bucket.state.id
}

output "state_key" {
  description = "Key of the app stack's state object in the bucket."
  value       = local.state_key
}

output "lock_table" {
  description = "Name of the optional DynamoDB lock table (empty when S3 locking alone is used)."
  value       = var.dynamodb_lock_table ? aws_dynamodb_table.lock[0].name : ""
}

output "backend_config" {
  description = "The backend settings written to backend_config_path, as a map."
  value       = local.backend_config
}

output "backend_config_path" {
  description = "Path of the backend settings file for `terraform init -backend-config=...` in deploy/terraform/app."
  value       = local_file.backend_config.filename
}
