variable "name" {
  description = "Prefix of the repository names: <name>/web, <name>/worker, <name>/inference."
  type        = string
}

variable "keep_images" {
  description = "How many images each repository keeps; older ones are expired."
  type        = number
  default     = 20
}

variable "force_delete" {
  description = "Let terraform destroy delete repositories that still hold images (tear-down)."
  type        = bool
  default     = false
}
