# The tables of `stereospot aws provision`, on demand, with point-in-time recovery.
# Streams (NEW_IMAGE) on jobs, segment completions and segment progress feed the job-events
# pipes; TTL on segment progress, the reassembly locks and the inference invocations.

resource "aws_dynamodb_table" "jobs" {
  #checkov:skip=CKV_AWS_119:DynamoDB encrypts every table at rest with an AWS-owned key; a customer-managed key adds cost and key grants for no extra protection here
  name                        = "${var.name}-jobs"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "job_id"
  stream_enabled              = true
  stream_view_type            = "NEW_IMAGE"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "job_id"
    type = "S"
  }
  attribute {
    name = "status"
    type = "S"
  }
  attribute {
    name = "created_at"
    type = "S"
  }
  attribute {
    name = "completed_at"
    type = "S"
  }
  attribute {
    name = "failed_at"
    type = "S"
  }

  global_secondary_index {
    name            = "status-created_at"
    hash_key        = "status"
    range_key       = "created_at"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "status-completed_at"
    hash_key        = "status"
    range_key       = "completed_at"
    projection_type = "ALL"
  }
  global_secondary_index {
    name            = "status-failed_at"
    hash_key        = "status"
    range_key       = "failed_at"
    projection_type = "ALL"
  }

  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled = true
  }
}

resource "aws_dynamodb_table" "segment_completions" {
  #checkov:skip=CKV_AWS_119:DynamoDB encrypts every table at rest with an AWS-owned key; a customer-managed key adds cost and key grants for no extra protection here
  name                        = "${var.name}-segment-completions"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "job_id"
  range_key                   = "segment_index"
  stream_enabled              = true
  stream_view_type            = "NEW_IMAGE"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "job_id"
    type = "S"
  }
  attribute {
    name = "segment_index"
    type = "N"
  }

  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled = true
  }
}

# Per-segment progress of the conversions in flight (written as frames are converted,
# expiring by TTL). Its stream is piped to the job-events topic (events module).
resource "aws_dynamodb_table" "segment_progress" {
  #checkov:skip=CKV_AWS_119:DynamoDB encrypts every table at rest with an AWS-owned key; a customer-managed key adds cost and key grants for no extra protection here
  name                        = "${var.name}-segment-progress"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "job_id"
  range_key                   = "segment_index"
  stream_enabled              = true
  stream_view_type            = "NEW_IMAGE"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "job_id"
    type = "S"
  }
  attribute {
    name = "segment_index"
    type = "N"
  }

  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled = true
  }
}

resource "aws_dynamodb_table" "reassembly_triggered" {
  #checkov:skip=CKV_AWS_119:DynamoDB encrypts every table at rest with an AWS-owned key; a customer-managed key adds cost and key grants for no extra protection here
  name                        = "${var.name}-reassembly-triggered"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "job_id"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "job_id"
    type = "S"
  }

  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled = true
  }
}

resource "aws_dynamodb_table" "inference_invocations" {
  #checkov:skip=CKV_AWS_119:DynamoDB encrypts every table at rest with an AWS-owned key; a customer-managed key adds cost and key grants for no extra protection here
  name                        = "${var.name}-inference-invocations"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "output_location"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "output_location"
    type = "S"
  }

  ttl {
    attribute_name = "ttl"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled = true
  }
}

resource "aws_dynamodb_table" "push_subscriptions" {
  #checkov:skip=CKV_AWS_119:DynamoDB encrypts every table at rest with an AWS-owned key; a customer-managed key adds cost and key grants for no extra protection here
  name                        = "${var.name}-push-subscriptions"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "job_id"
  range_key                   = "endpoint"
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "job_id"
    type = "S"
  }
  attribute {
    name = "endpoint"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }
  server_side_encryption {
    enabled = true
  }
}
