# The Terraform root of this platform. lmi-delivery runs it as
#   terraform -chdir=terraform plan -var-file=env/<env>.tfvars
# Names come from lmi-delivery.yml's naming rule: run `lmi-delivery names` and build them the
# same way here ("${var.service}-${var.environment}-<key>").
terraform {
  required_version = "= 1.12.2"

  # The state is shared by the plan build, the apply build and every later run, so it lives in
  # S3; use_lockfile makes plan and apply take a lock object beside it (<key>.tflock, written
  # with a conditional put), so two runs never write it at once. The bucket, the key (one per
  # environment), the region and use_lockfile come from lmi-delivery.yml's
  # terraform.backend_config: the state backend `lmi-delivery bootstrap` creates.
  backend "s3" {}
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
