# One repository per image: web, worker (media-worker and video-worker run the same image),
# inference (the SageMaker/Triton server). Tags are immutable and every push is scanned.

locals {
  repositories = toset(["web", "worker", "inference"])
}

resource "aws_ecr_repository" "this" {
  for_each             = local.repositories
  name                 = "${var.name}/${each.key}"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    # The AWS-managed ECR key.
    encryption_type = "KMS"
  }
}

resource "aws_ecr_lifecycle_policy" "this" {
  for_each   = local.repositories
  repository = aws_ecr_repository.this[each.key].name

  policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "keep the newest ${var.keep_images} images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.keep_images
        }
        action = { type = "expire" }
      }
    ]
  })
}
