variable "name" {
  description = "Prefix of the pipe and role names."
  type        = string
}

variable "stream_arns" {
  description = "DynamoDB stream ARNs whose records become job events, by a short key (jobs_table, segment_completions_table)."
  type        = map(string)
}

variable "queue_arn" {
  description = "ARN of the job-events queue the pipes deliver to."
  type        = string
}

variable "dead_letter_arn" {
  description = "ARN of the SQS queue that receives stream records a pipe could not deliver (the job-events DLQ)."
  type        = string
}
