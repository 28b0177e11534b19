terraform {
  required_version = "= 1.11.0"
}

variable "environment" {
  type = string
}

variable "function_name" {
  type    = string
  default = "agent-core-dev-clm-routr"
}

# Not a finding: "agent-core-dev-tf-plan-logs" extends a derived name.
locals {
  log_group = "agent-core-dev-tf-plan-logs"
}
