data "archive_file" "router" {
  type        = "zip"
  source_dir  = "${path.module}/../src/clm_router"
  output_path = "${path.module}/.build/clm-router.zip"
}

resource "aws_cloudwatch_log_group" "router" {
  name              = "/aws/lambda/${local.router_name}"
  retention_in_days = 30
}

resource "aws_lambda_function" "router" {
  function_name    = local.router_name
  role             = aws_iam_role.router.arn
  runtime          = "python3.13"
  handler          = "handler.handler"
  architectures    = ["arm64"]
  memory_size      = var.router_memory_mb
  timeout          = 30
  filename         = data.archive_file.router.output_path
  source_code_hash = data.archive_file.router.output_base64sha256

  # Every apply publishes a version; lmi-delivery's post-deploy step owns what follows: it sets
  # the scaling config (functions.clm-router.scaling), moves the alias once the version is
  # Active, warms it and keeps its warm-up schedule (functions.clm-router.warm.schedule), and
  # prunes old versions. Terraform manages none of these, so no knob has two owners.
  publish    = true
  publish_to = "LATEST_PUBLISHED"

  capacity_provider_config {
    lambda_managed_instances_capacity_provider_config {
      capacity_provider_arn                     = aws_lambda_capacity_provider.shared.arn
      execution_environment_memory_gib_per_vcpu = var.router_memory_gib_per_vcpu
      per_execution_environment_max_concurrency = var.router_max_concurrency
    }
  }

  environment {
    variables = {
      SERVICE     = var.service
      ENVIRONMENT = var.environment
    }
  }

  depends_on = [aws_cloudwatch_log_group.router, aws_iam_role_policy_attachment.router_logs]
}

resource "aws_lambda_alias" "router_live" {
  name             = local.router_alias
  function_name    = aws_lambda_function.router.function_name
  function_version = aws_lambda_function.router.version

  # Terraform creates the alias; post-deploy owns where it routes after the first apply.
  lifecycle {
    ignore_changes = [function_version, routing_config]
  }
}
