output "names" {
  description = "Table names by the AwsSettings field that names them (jobs_table, segment_completions_table, ...)."
  value = {
    jobs_table                = aws_dynamodb_table.jobs.name
    segment_completions_table = aws_dynamodb_table.segment_completions.name
    segment_progress_table    = aws_dynamodb_table.segment_progress.name
    reassembly_table          = aws_dynamodb_table.reassembly_triggered.name
    invocations_table         = aws_dynamodb_table.inference_invocations.name
    push_subscriptions_table  = aws_dynamodb_table.push_subscriptions.name
  }
}

output "arns" {
  description = "Table ARNs by the same keys as names."
  value = {
    jobs_table                = aws_dynamodb_table.jobs.arn
    segment_completions_table = aws_dynamodb_table.segment_completions.arn
    segment_progress_table    = aws_dynamodb_table.segment_progress.arn
    reassembly_table          = aws_dynamodb_table.reassembly_triggered.arn
    invocations_table         = aws_dynamodb_table.inference_invocations.arn
    push_subscriptions_table  = aws_dynamodb_table.push_subscriptions.arn
  }
}

output "stream_arns" {
  description = "Stream ARNs of the tables whose changes are job events (jobs, segment completions, segment progress)."
  value = {
    jobs_table                = aws_dynamodb_table.jobs.stream_arn
    segment_completions_table = aws_dynamodb_table.segment_completions.stream_arn
    segment_progress_table    = aws_dynamodb_table.segment_progress.stream_arn
  }
}
