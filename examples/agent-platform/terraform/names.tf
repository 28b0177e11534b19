# Every name comes from the one naming rule of lmi-delivery.yml: "{service}-{env}-{name}".
locals {
  prefix                 = "${var.service}-${var.environment}"
  capacity_provider_name = "${local.prefix}-shared"
  router_name            = "${local.prefix}-clm-router"
  router_alias           = "live"
}
