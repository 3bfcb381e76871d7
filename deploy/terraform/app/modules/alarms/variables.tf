variable "name" {
  description = "Prefix of the alarm and topic names."
  type        = string
}

variable "queue_names" {
  description = "Queue names by short name (chunking, video-worker, ...)."
  type        = map(string)
}

variable "dlq_names" {
  description = "Dead-letter queue names by the short name of their queue."
  type        = map(string)
}

variable "visibility_timeouts" {
  description = "Visibility timeout of each queue by short name; a message older than twice its queue's timeout raises the age alarm."
  type        = map(number)
}

variable "endpoint_name" {
  description = "SageMaker endpoint whose errors raise an alarm; empty in http mode."
  type        = string
  default     = ""
}

variable "alarm_email" {
  description = "Address subscribed to the alarm topic (confirm the e-mail AWS sends); empty for none."
  type        = string
  default     = ""
}
