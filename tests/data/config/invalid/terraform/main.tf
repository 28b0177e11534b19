# A provider-free Terraform root used by the configuration fixtures.
variable "environment" {
  type = string
}

resource "terraform_data" "marker" {
  input = var.environment
}
