variable "name" {
  description = "Prefix of the bucket names: <name>-input and <name>-output."
  type        = string
}

variable "notifications" {
  description = "S3 -> SQS notifications per bucket (input, output): id, prefix, suffix, queue; from stack.json, i.e. stereospot.domain.routing.ROUTES."
  type = map(list(object({
    id     = string
    prefix = string
    suffix = string
    queue  = string
  })))
}

variable "queue_arns" {
  description = "ARN of each queue by its name (chunking, video-worker, ...), the targets of the notifications."
  type        = map(string)
}

variable "cors_allowed_origins" {
  description = "Origins whose pages may PUT uploads and GET results with presigned URLs (the web app's public URL)."
  type        = list(string)
}

variable "transient_expiry_days" {
  description = "Days after which transient objects (source segments, SageMaker requests and responses) expire."
  type        = number
  default     = 1
}

variable "force_destroy" {
  description = "Let terraform destroy delete the buckets with every object in them (tear-down)."
  type        = bool
  default     = false
}
