environment            = "qa"
router_max_concurrency = 4
