variable "name" {
  description = "Prefix of the queue names: <name>-<queue> and <name>-<queue>-dlq."
  type        = string
}

variable "visibility_timeouts" {
  description = "Visibility timeout in seconds of each queue by name (stack.json: Settings.queue_timeouts plus job-events)."
  type        = map(number)
}

variable "max_receives" {
  description = "Receives of a message before SQS moves it to the queue's DLQ (Settings.max_receives)."
  type        = number
}

variable "s3_senders" {
  description = "For each queue that hears S3 notifications, the names of the buckets allowed to send to it."
  type        = map(list(string))
}

variable "message_retention_s" {
  description = "How long a message waits in a queue before SQS drops it (seconds)."
  type        = number
  default     = 4 * 24 * 3600
}

variable "dlq_retention_s" {
  description = "How long a dead letter is kept for inspection and redrive: 14 days, the most SQS allows."
  type        = number
  default     = 14 * 24 * 3600
}
