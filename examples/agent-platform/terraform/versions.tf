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

  # Bucket and region come from -backend-config at init; the key from lmi-delivery.yml
  # (key={service}/{env}/terraform.tfstate). use_lockfile: plan and apply take a lock object
  # beside the state (<key>.tflock, a conditional write), so two runs never write it at once.
  backend "s3" {
    use_lockfile = true
  }
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
