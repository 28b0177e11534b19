# A provider-free stand-in for the platform: terraform_data records what the release is, so that
# plan, the plan hand-off and apply run with the real Terraform and no provider download.
terraform {
  required_version = "= 1.12.2"
}

variable "environment" {
  type = string
}

variable "router_release" {
  type        = string
  description = "Release label of the router function's code."
}

resource "terraform_data" "router_release" {
  input = {
    environment = var.environment
    release     = var.router_release
  }
}

output "router_release" {
  value = terraform_data.router_release.output
}
