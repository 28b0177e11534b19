service     = "my-service"
environment = "dev"
