environment            = "dev"
router_max_concurrency = 4
