environment = "dev"
release     = "2026.11.1"
