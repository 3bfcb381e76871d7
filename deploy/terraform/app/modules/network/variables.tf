variable "name" {
  description = "Prefix of every resource name (the stack's prefix)."
  type        = string
}

variable "cidr_block" {
  description = "CIDR block of the VPC; split into one public and one private /20 (or smaller) per availability zone."
  type        = string
  default     = "10.40.0.0/16"
}

variable "az_count" {
  description = "How many availability zones the subnets span (2 or 3)."
  type        = number
  default     = 2
}

variable "nat_gateway" {
  description = "One NAT gateway for the tasks' internet traffic (URL ingest downloads, Web Push). AWS APIs go through endpoints either way."
  type        = bool
  default     = true
}

variable "interface_endpoints" {
  description = "Interface endpoints (SQS, ECR, Logs, Secrets Manager, SageMaker API and runtime, CloudWatch) so AWS API calls stay in the VPC without a NAT."
  type        = bool
  default     = true
}

variable "flow_log_retention_days" {
  description = "Days the VPC flow log (rejected traffic) is kept in CloudWatch Logs."
  type        = number
  default     = 30
}
