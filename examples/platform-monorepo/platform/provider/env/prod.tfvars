environment    = "prod"
max_vcpu_count = 96
