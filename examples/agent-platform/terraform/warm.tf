# Recurring warm-up: primes each execution environment's runtime. On managed instances the
# minimum execution environments (scaling.min, set after deploy) is what keeps capacity warm.
resource "aws_cloudwatch_event_rule" "router_warm" {
  name                = "${local.router_name}-warm"
  description         = "Warm-up invocations of ${local.router_name}:${local.router_alias}"
  schedule_expression = var.warm_schedule
}

resource "aws_cloudwatch_event_target" "router_warm" {
  rule  = aws_cloudwatch_event_rule.router_warm.name
  arn   = aws_lambda_alias.router_live.arn
  input = jsonencode({ "lmi-delivery-warm" = true })
}

resource "aws_lambda_permission" "router_warm" {
  statement_id  = "AllowWarmUpFromEventBridge"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.router.function_name
  qualifier     = aws_lambda_alias.router_live.name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.router_warm.arn
}
