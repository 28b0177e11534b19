# The platform team's root: a provider-free stand-in for the shared capacity provider, its
# network and its operator role (terraform_data records what they are).
terraform {
  required_version = "= 1.12.2"
}

variable "environment" {
  type = string
}

variable "max_vcpu_count" {
  type = number
}

resource "terraform_data" "capacity_provider" {
  input = {
    environment    = var.environment
    name           = "platform-${var.environment}-shared"
    max_vcpu_count = var.max_vcpu_count
  }
}

output "capacity_provider" {
  value = terraform_data.capacity_provider.output
}
