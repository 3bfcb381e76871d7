variable "name" {
  description = "Prefix of the topic, pipe and role names."
  type        = string
}

variable "stream_arns" {
  description = "DynamoDB stream ARNs whose records become job events, by a short key (jobs_table, segment_completions_table, segment_progress_table)."
  type        = map(string)
}

variable "dead_letter_arn" {
  description = "ARN of the SQS queue that keeps stream records a pipe could not publish to the topic (the job-events queue, for an operator to inspect)."
  type        = string
}
