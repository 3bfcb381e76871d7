variable "name" {
  description = "Prefix of the load balancer, target group and security group names."
  type        = string
}

variable "vpc_id" {
  description = "VPC of the load balancer."
  type        = string
}

variable "subnet_ids" {
  description = "Public subnets the load balancer listens in."
  type        = list(string)
}

variable "allowed_cidrs" {
  description = "Client networks allowed to reach the load balancer."
  type        = list(string)
  default     = ["0.0.0.0/0"]
}

variable "web_port" {
  description = "Port the web app listens on in its task."
  type        = number
  default     = 8000
}

variable "certificate_arn" {
  description = "ACM certificate for HTTPS on 443; empty serves HTTP only (no Web Push, no authentication)."
  type        = string
  default     = ""
}

variable "oidc" {
  description = "Authenticate every request at the listener with an OIDC provider (needs HTTPS); null for none. The web app then runs with STEREOSPOT_AUTH=oidc-header."
  type = object({
    issuer                 = string
    authorization_endpoint = string
    token_endpoint         = string
    user_info_endpoint     = string
    client_id              = string
  })
  default = null
}

variable "oidc_client_secret" {
  description = "Client secret of the OIDC application (with oidc); kept out of logs and plans."
  type        = string
  default     = ""
  sensitive   = true
}

variable "cognito" {
  description = "Authenticate every request at the listener with a Cognito user pool (needs HTTPS); null for none."
  type = object({
    user_pool_arn       = string
    user_pool_client_id = string
    user_pool_domain    = string
  })
  default = null
}

variable "idle_timeout_s" {
  description = "Seconds an idle connection stays open (the live progress stream sends a keep-alive sooner)."
  type        = number
  default     = 120
}

variable "deletion_protection" {
  description = "Refuse to delete the load balancer (turn off before terraform destroy)."
  type        = bool
  default     = true
}
