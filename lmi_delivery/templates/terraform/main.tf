# The Terraform root of this platform. lmi-delivery runs it as
#   terraform -chdir=terraform plan -var-file=env/<env>.tfvars
# Names come from lmi-delivery.yml's naming rule: run `lmi-delivery names` and build them the
# same way here ("${var.service}-${var.environment}-<key>").
terraform {
  required_version = "= 1.12.2"
}

variable "service" {
  type        = string
  description = "The {service} placeholder of lmi-delivery.yml."
}

variable "environment" {
  type        = string
  description = "The {env} placeholder of lmi-delivery.yml."
}

locals {
  capacity_provider_name = "${var.service}-${var.environment}-shared"
  function_name          = "${var.service}-${var.environment}-api"
}

output "names" {
  value = {
    capacity_provider = local.capacity_provider_name
    function          = local.function_name
  }
}
