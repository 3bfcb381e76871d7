variable "name" {
  description = "Prefix of the model, endpoint and role names."
  type        = string
}

variable "mode" {
  description = "sagemaker: a SageMaker async endpoint made here; http: the video-worker calls an inference server at http_url speaking the SageMaker contract (`stereospot inference serve`); triton: a Triton server at http_url (the stereo model). http and triton servers run elsewhere."
  type        = string
  default     = "sagemaker"
  validation {
    condition     = contains(["sagemaker", "http", "triton"], var.mode)
    error_message = "mode is sagemaker, http or triton."
  }
}

variable "http_url" {
  description = "Base URL of the inference server in http or triton mode (STEREOSPOT_INFERENCE_URL)."
  type        = string
  default     = ""
}

variable "image_uri" {
  description = "Inference image (inference_server/Dockerfile) with its tag, e.g. <account>.dkr.ecr.<region>.amazonaws.com/<name>/inference:v1."
  type        = string
  default     = ""
}

variable "instance_type" {
  description = "GPU instance type of the endpoint."
  type        = string
  default     = "ml.g5.xlarge"
}

variable "max_instances" {
  description = "Most instances the endpoint scales out to (and the in-flight cap the video-workers hold)."
  type        = number
  default     = 2
}

variable "backlog_per_instance" {
  description = "Target of ApproximateBacklogSizePerInstance: queued requests per instance before another instance is added."
  type        = number
  default     = 4
}

variable "scale_in_cooldown_s" {
  description = "Seconds after a scale-in before the next one; idle instances are removed down to zero."
  type        = number
  default     = 600
}

variable "environment" {
  description = "Environment variables of the inference container (model id, log level, HF token secret ARN)."
  type        = map(string)
  default     = {}
}

variable "input_bucket" {
  description = "Name of the input bucket (segments/ and sagemaker-invocation-requests/ are read from it)."
  type        = string
}

variable "output_bucket" {
  description = "Name of the output bucket (jobs/ and the async responses and failures are written to it)."
  type        = string
}

variable "inference_repository_arn" {
  description = "ARN of the ECR repository of the inference image."
  type        = string
}

variable "hf_token_arn" {
  description = "ARN of the Hugging Face token secret the server may read; empty for none."
  type        = string
  default     = ""
}

variable "subnet_ids" {
  description = "Private subnets the endpoint's containers run in."
  type        = list(string)
}

variable "vpc_id" {
  description = "VPC of the subnets."
  type        = string
}
