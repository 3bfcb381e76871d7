# The Terraform state of the app stack: one versioned, encrypted, private, TLS-only bucket.
# Locking is S3-native (use_lockfile, Terraform >= 1.10): a lock object next to the state.
# A DynamoDB lock table exists only when dynamodb_lock_table = true (older CLIs).

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_18:access logs of the state bucket would need a second bucket; CloudTrail data events are the audit trail for state reads and writes
  #checkov:skip=CKV_AWS_144:cross-region replication of a few KB of state is not worth a second region; versioning keeps every earlier state
  #checkov:skip=CKV2_AWS_62:nothing reacts to state changes, so no event notifications
  bucket        = var.state_bucket_name
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      # The AWS-managed key of S3 (aws/s3): encrypted at rest, no key to administer.
      sse_algorithm = "aws:kms"
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "expire-old-state-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

data "aws_iam_policy_document" "state" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.state.arn,
      "${aws_s3_bucket.state.arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state.json

  depends_on = [aws_s3_bucket_public_access_block.state]
}

resource "aws_dynamodb_table" "lock" {
  #checkov:skip=CKV_AWS_119:lock items hold only a lock id and a digest; the AWS-owned key encrypts them at rest
  count = var.dynamodb_lock_table ? 1 : 0

  name         = "${var.state_bucket_name}-lock"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "LockID"

  attribute {
    name = "LockID"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled = true
  }
}

locals {
  state_key = var.state_key != "" ? var.state_key : "${var.environment}/app.tfstate"

  backend_config = merge(
    {
      bucket       = aws_s3_bucket.state.id
      key          = local.state_key
      region       = var.region
      encrypt      = true
      use_lockfile = true
    },
    var.dynamodb_lock_table ? { dynamodb_table = aws_dynamodb_table.lock[0].name } : {},
  )
}

# The app stack runs `terraform init -backend-config=backend.hcl` with this file.
resource "local_file" "backend_config" {
  filename        = var.backend_config_path
  file_permission = "0644"
  content = join("", [
    for name, value in local.backend_config :
    "${name} = ${jsonencode(value)}\n"
  ])
}
