variable "app" {
  description = "Value of the App tag on every resource."
  type        = string
  default     = "stereospot"
}

variable "environment" {
  description = "Value of the Environment tag (dev, staging, prod)."
  type        = string
  default     = "dev"
}

variable "prefix" {
  description = "Prefix of every resource name, as `stereospot aws provision --prefix`: 1-40 lower-case letters, digits and dashes (bucket names must be globally unique, so include something of yours)."
  type        = string
  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$", var.prefix))
    error_message = "prefix is 1-40 lower-case letters, digits and dashes, starting and ending with a letter or digit."
  }
}

variable "region" {
  description = "AWS region of the stack."
  type        = string
  default     = "us-east-1"
}

variable "image_tag" {
  description = "Tag of the web and worker images pushed to ECR (immutable tags: a new release is a new tag)."
  type        = string
}

variable "inference_image_tag" {
  description = "Tag of the inference image in ECR (sagemaker mode)."
  type        = string
  default     = ""
}

variable "inference_mode" {
  description = "sagemaker (async endpoint made here), http (`stereospot inference serve` at inference_url) or triton (a Triton server at inference_url), the last two on GPU hosts you run."
  type        = string
  default     = "sagemaker"
}

variable "inference_url" {
  description = "Inference server base URL in http or triton mode."
  type        = string
  default     = ""
}

variable "inference_instance_type" {
  description = "GPU instance type of the SageMaker endpoint."
  type        = string
  default     = "ml.g5.xlarge"
}

variable "inference_max_instances" {
  description = "Most endpoint instances (the endpoint scales between 0 and this)."
  type        = number
  default     = 2
}

variable "inference_backlog_per_instance" {
  description = "Queued requests per endpoint instance before another instance is added."
  type        = number
  default     = 4
}

variable "depth_model" {
  description = "Depth model the inference server loads (STEREOSPOT_DEPTH_MODEL): a Hugging Face model id, a directory in the image, builtin, or auto."
  type        = string
  default     = "auto"
}

variable "inference_stub" {
  description = "Run the inference image in stub mode (answers /ping and /invocations without a model) so a first deploy reaches InService; set false for real conversions."
  type        = bool
  default     = false
}

variable "public_url" {
  description = "Address browsers use (https://video.example.com); empty uses the load balancer's DNS name."
  type        = string
  default     = ""
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS; empty serves HTTP only (Web Push and listener authentication need HTTPS)."
  type        = string
  default     = ""
}

variable "oidc" {
  description = "OIDC provider that authenticates every request at the load balancer (needs certificate_arn); null for none."
  type = object({
    issuer                 = string
    authorization_endpoint = string
    token_endpoint         = string
    user_info_endpoint     = string
    client_id              = string
  })
  default = null
  validation {
    condition     = var.oidc == null || var.certificate_arn != ""
    error_message = "oidc needs certificate_arn: the load balancer authenticates on HTTPS only (without it the web app would fall back to its own password)."
  }
  validation {
    condition     = var.oidc == null || var.cognito == null
    error_message = "Set oidc or cognito, not both."
  }
}

variable "oidc_client_secret" {
  description = "Client secret of the OIDC application (set with TF_VAR_oidc_client_secret, never in a file)."
  type        = string
  default     = ""
  sensitive   = true
}

variable "cognito" {
  description = "Cognito user pool that authenticates every request at the load balancer (needs certificate_arn); null for none."
  type = object({
    user_pool_arn       = string
    user_pool_client_id = string
    user_pool_domain    = string
  })
  default = null
  validation {
    condition     = var.cognito == null || var.certificate_arn != ""
    error_message = "cognito needs certificate_arn: the load balancer authenticates on HTTPS only (without it the web app would fall back to its own password)."
  }
}

variable "allowed_cidrs" {
  description = "Client networks allowed to reach the load balancer."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.40.0.0/16"
}

variable "az_count" {
  description = "Availability zones the subnets span."
  type        = number
  default     = 2
}

variable "nat_gateway" {
  description = "A NAT gateway for internet traffic of the tasks (URL ingest, Web Push, model download); about 33 USD a month."
  type        = bool
  default     = true
}

variable "interface_endpoints" {
  description = "Interface VPC endpoints for SQS, ECR, Logs, Secrets Manager, SageMaker API and runtime and CloudWatch (about 7 USD a month each per zone)."
  type        = bool
  default     = true
}

variable "web" {
  description = "Web service size: vCPU units, MiB, task count."
  type = object({
    cpu    = number
    memory = number
    count  = number
  })
  default = { cpu = 512, memory = 1024, count = 1 }
}

variable "media_worker" {
  description = "Media-worker size and scaling (vCPU units, MiB, scratch GiB, most tasks, messages per task)."
  type = object({
    cpu               = number
    memory            = number
    storage_gib       = number
    max_tasks         = number
    messages_per_task = number
  })
  default = { cpu = 1024, memory = 2048, storage_gib = 100, max_tasks = 4, messages_per_task = 1 }
}

variable "video_worker" {
  description = "Video-worker size and scaling (vCPU units, MiB, scratch GiB, most tasks, messages per task)."
  type = object({
    cpu               = number
    memory            = number
    storage_gib       = number
    max_tasks         = number
    messages_per_task = number
  })
  default = { cpu = 512, memory = 1024, storage_gib = 21, max_tasks = 8, messages_per_task = 2 }
}

variable "idle_minutes" {
  description = "Minutes of empty queues before a worker service scales to zero."
  type        = number
  default     = 15
}

variable "hf_token_secret" {
  description = "Create the Hugging Face token secret for the inference server (value put with the AWS CLI)."
  type        = bool
  default     = true
}

variable "ytdlp_cookies_secret" {
  description = "Create the yt-dlp cookies secret (value put with the AWS CLI)."
  type        = bool
  default     = false
}

variable "vapid_subject" {
  description = "Contact of the Web Push sender (mailto: or https: URL), sent to push services."
  type        = string
  default     = "mailto:admin@localhost"
}

variable "log_level" {
  description = "Log level of every service."
  type        = string
  default     = "INFO"
}

variable "alarm_email" {
  description = "E-mail address that receives the alarms; empty for none."
  type        = string
  default     = ""
}

variable "monthly_budget_usd" {
  description = "Monthly AWS Budgets limit for the resources tagged with this App and Environment; 0 for no budget."
  type        = number
  default     = 0
}

variable "deletion_protection" {
  description = "Protect the tables and the load balancer from deletion (set false, apply, then destroy)."
  type        = bool
  default     = true
}

variable "force_destroy" {
  description = "Let terraform destroy empty the buckets and image repositories (tear-down of a throwaway stack)."
  type        = bool
  default     = false
}
