terraform {
  # use_lockfile (S3-native state locking) needs Terraform 1.10 or later.
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
  }

  # Partial configuration: `terraform init -backend-config=backend.hcl`, the file
  # deploy/terraform/setup writes (bucket, key, region, encrypt, use_lockfile).
  backend "s3" {}
}

provider "aws" {
  region = var.region

  # Every taggable resource of the stack carries App and Environment (cost allocation,
  # the optional budget below, and finding what belongs to which stack).
  default_tags {
    tags = {
      App         = var.app
      Environment = var.environment
    }
  }
}
