variable "name" {
  description = "Prefix of the table names: <name>-jobs, <name>-segment-completions, ..."
  type        = string
}

variable "deletion_protection" {
  description = "Refuse to delete the tables (turn off before terraform destroy)."
  type        = bool
  default     = true
}
