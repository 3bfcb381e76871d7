variable "app" {
  description = "Value of the App tag on every resource."
  type        = string
  default     = "stereospot"
}

variable "environment" {
  description = "Value of the Environment tag (dev, staging, prod); also part of the state key."
  type        = string
  default     = "dev"
}

variable "region" {
  description = "AWS region of the state bucket (and of the app stack that uses it)."
  type        = string
  default     = "us-east-1"
}

variable "state_bucket_name" {
  description = "Name of the S3 bucket that keeps Terraform state; globally unique, so include the account id or a domain."
  type        = string
}

variable "state_key" {
  description = "Object key of the app stack's state inside the bucket; empty means <environment>/app.tfstate."
  type        = string
  default     = ""
}

variable "noncurrent_version_days" {
  description = "Days an overwritten state version is kept before S3 expires it (the history to roll back to)."
  type        = number
  default     = 90
}

variable "dynamodb_lock_table" {
  description = "Also create a DynamoDB lock table, only for Terraform CLIs older than 1.10 (newer ones lock with use_lockfile in S3)."
  type        = bool
  default     = false
}

variable "backend_config_path" {
  description = "Where to write the backend settings the app stack is initialised with (terraform init -backend-config=FILE)."
  type        = string
  default     = "../app/backend.hcl"
}

variable "force_destroy" {
  description = "Let terraform destroy delete the state bucket with every state version in it (final tear-down only)."
  type        = bool
  default     = false
}
