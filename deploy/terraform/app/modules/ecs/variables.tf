variable "name" {
  description = "Prefix of the cluster, services, roles and log groups."
  type        = string
}

variable "vpc_id" {
  description = "VPC the tasks run in."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the tasks."
  type        = list(string)
}

variable "alb_security_group_id" {
  description = "Security group of the load balancer: the only source the web tasks accept."
  type        = string
}

variable "target_group_arn" {
  description = "Target group the web tasks register in."
  type        = string
}

variable "web_port" {
  description = "Port the web app listens on."
  type        = number
  default     = 8000
}

variable "images" {
  description = "Image URI with tag of each service image: web, worker."
  type        = map(string)
}

variable "repository_arns" {
  description = "ECR repository ARNs the images are pulled from (web, worker)."
  type        = map(string)
}

variable "environment" {
  description = "STEREOSPOT_* variables every task gets (the same ones the rendered env file holds)."
  type        = map(string)
}

variable "secrets" {
  description = "Environment variable name -> Secrets Manager ARN, injected into every task at start."
  type        = map(string)
}

variable "web_secrets" {
  description = "Extra secrets only the web app gets (variable name -> ARN), e.g. its password hash."
  type        = map(string)
  default     = {}
}

variable "media_secrets" {
  description = "Extra secrets only the media-worker gets (variable name -> ARN), e.g. yt-dlp cookies."
  type        = map(string)
  default     = {}
}

variable "input_bucket" {
  description = "Name of the input bucket."
  type        = string
}

variable "output_bucket" {
  description = "Name of the output bucket."
  type        = string
}

variable "table_arns" {
  description = "Table ARNs by AwsSettings field (jobs_table, segment_completions_table, segment_progress_table, ...)."
  type        = map(string)
}

variable "queue_arns" {
  description = "Queue ARNs by queue name (chunking, video-worker, ..., job-events)."
  type        = map(string)
}

variable "dlq_arns" {
  description = "Dead-letter queue ARNs by the name of their queue."
  type        = map(string)
}

variable "queue_names" {
  description = "Queue names by short name, for the scaling metrics."
  type        = map(string)
}

variable "sagemaker_endpoint_arn" {
  description = "ARN of the SageMaker async endpoint the video-worker invokes; empty in http mode."
  type        = string
  default     = ""
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
  description = "Media-worker size and scaling: vCPU units, MiB, scratch GiB (source, segments and the joined result), most tasks, messages per task."
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
  description = "Video-worker size and scaling: vCPU units, MiB, scratch GiB, most tasks, messages per task."
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
  description = "Minutes a worker's queues must stay empty (nothing visible, nothing in flight) before it scales to zero."
  type        = number
  default     = 15
}

variable "grace_seconds" {
  description = "After SIGTERM (scale-in, deploy), how long a worker may finish its message before handing it back; below ECS's 120 s stop timeout."
  type        = number
  default     = 100
}

variable "log_retention_days" {
  description = "Days the services' logs are kept."
  type        = number
  default     = 30
}

variable "job_events_topic_arn" {
  description = "ARN of the job-events SNS topic; each web task subscribes its own queue to it."
  type        = string
}

variable "web_events_prefix" {
  description = "Name prefix of the web tasks' own event queues ({prefix}-<task id>); the web role may create, read and delete only these."
  type        = string
}
