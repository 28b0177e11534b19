environment    = "dev"
max_vcpu_count = 24
