terraform {
  required_version = "= 1.12.2"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.24"
    }
    archive = {
      source  = "hashicorp/archive"
      version = ">= 2.4"
    }
  }

  # Bucket, region and lock table come from -backend-config at init; the key from
  # lmi-delivery.yml (key={service}/{env}/terraform.tfstate).
  backend "s3" {}
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      service     = var.service
      environment = var.environment
      managed-by  = "lmi-delivery"
    }
  }
}
