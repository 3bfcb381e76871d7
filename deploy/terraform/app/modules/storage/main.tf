# The input bucket (input/ uploads, segments/ and SageMaker requests) and the output bucket
# (jobs/<job>/..., SageMaker async responses and failures). Private, encrypted, TLS only,
# CORS for presigned uploads and playback, S3 -> SQS notifications from the routing table.

locals {
  buckets = toset(["input", "output"])
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV_AWS_18:access logs would need a log bucket per stack; requests are signed per job and CloudTrail data events can be enabled account-wide
  #checkov:skip=CKV_AWS_21:objects are transient media removed on purpose (job removal deletes a user's video); versioning would keep deleted videos
  #checkov:skip=CKV_AWS_144:a converted video can be converted again; cross-region replication doubles storage for no recovery need
  #checkov:skip=CKV_AWS_145:SSE-S3 encrypts at rest; a KMS key adds a request charge to every segment read and write and key grants for SageMaker
  for_each      = local.buckets
  bucket        = "${var.name}-${each.key}"
  force_destroy = var.force_destroy
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each                = local.buckets
  bucket                  = aws_s3_bucket.this[each.key].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_cors_configuration" "this" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  cors_rule {
    allowed_methods = ["GET", "HEAD", "PUT"]
    allowed_origins = var.cors_allowed_origins
    allowed_headers = ["*"]
    expose_headers  = ["ETag", "Content-Length", "Content-Range", "Accept-Ranges"]
    max_age_seconds = 3600
  }
}

# Lifecycle: abandoned multipart uploads are aborted after a day, and the transient
# prefixes expire after transient_expiry_days. S3 lifecycle filters take a prefix, not a
# pattern, so jobs/<job>/segments/ (under each job's own prefix) cannot have a rule of its
# own: the converted segments go when the job is removed (deploy/README.md).
resource "aws_s3_bucket_lifecycle_configuration" "input" {
  bucket = aws_s3_bucket.this["input"].id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "expire-segments"
    status = "Enabled"
    filter {
      prefix = "segments/"
    }
    expiration {
      days = var.transient_expiry_days
    }
  }

  rule {
    id     = "expire-sagemaker-invocation-requests"
    status = "Enabled"
    filter {
      prefix = "sagemaker-invocation-requests/"
    }
    expiration {
      days = var.transient_expiry_days
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "output" {
  bucket = aws_s3_bucket.this["output"].id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  rule {
    id     = "expire-sagemaker-async-responses"
    status = "Enabled"
    filter {
      prefix = "sagemaker-async-responses/"
    }
    expiration {
      days = var.transient_expiry_days
    }
  }

  rule {
    id     = "expire-sagemaker-async-failures"
    status = "Enabled"
    filter {
      prefix = "sagemaker-async-failures/"
    }
    expiration {
      days = var.transient_expiry_days
    }
  }
}

data "aws_iam_policy_document" "tls_only" {
  for_each = local.buckets
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this[each.key].arn,
      "${aws_s3_bucket.this[each.key].arn}/*",
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

resource "aws_s3_bucket_policy" "this" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id
  policy   = data.aws_iam_policy_document.tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# One notification resource per bucket (S3 keeps one configuration per bucket).
resource "aws_s3_bucket_notification" "this" {
  for_each = local.buckets
  bucket   = aws_s3_bucket.this[each.key].id

  dynamic "queue" {
    for_each = var.notifications[each.key]
    content {
      id            = queue.value.id
      queue_arn     = var.queue_arns[queue.value.queue]
      events        = ["s3:ObjectCreated:*"]
      filter_prefix = queue.value.prefix
      filter_suffix = queue.value.suffix != "" ? queue.value.suffix : null
    }
  }
}
