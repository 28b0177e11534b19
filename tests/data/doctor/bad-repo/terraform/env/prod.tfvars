environment            = "prod"
capacity_provider_name = "agent-core-prod-sharde"
