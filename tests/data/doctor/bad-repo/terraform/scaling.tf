# LMD012: post-deploy sets this scaling config too (functions.clm-router.scaling).
resource "aws_lambda_function_scaling_config" "router" {
  function_name = "agent-core-${var.environment}-clm-router"
  qualifier     = "$LATEST.PUBLISHED"

  function_scaling_config {
    min_execution_environments = 1
    max_execution_environments = 4
  }
}
