service     = "my-service"
environment = "prod"
