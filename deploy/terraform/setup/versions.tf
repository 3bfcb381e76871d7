terraform {
  # 1.10 brought S3-native state locking (use_lockfile), which the app stack relies on.
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.80"
    }
    local = {
      source  = "hashicorp/local"
      version = "~> 2.5"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      App         = var.app
      Environment = var.environment
    }
  }
}
