environment    = "dev"
router_release = "2026.11.1"
