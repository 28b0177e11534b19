# The orders service's root: its function on the platform's shared capacity provider (applied
# after the provider root, terraform.roots.orders.depends_on).
terraform {
  required_version = "= 1.12.2"
}

variable "environment" {
  type = string
}

variable "release" {
  type = string
}

module "release" {
  source   = "../../modules/release"
  function = "platform-${var.environment}-orders-api"
  release  = var.release
}

output "release" {
  value = module.release.release
}
