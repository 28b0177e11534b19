environment            = "prod"
router_max_concurrency = 4
