environment = "prod"
release     = "2026.11.1"
