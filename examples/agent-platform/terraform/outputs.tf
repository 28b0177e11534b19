output "capacity_provider_arn" {
  description = "ARN of the shared capacity provider."
  value       = aws_lambda_capacity_provider.shared.arn
}

output "router_function_name" {
  description = "Name of the router function (naming rule: {service}-{env}-clm-router)."
  value       = aws_lambda_function.router.function_name
}

output "router_alias_arn" {
  description = "ARN of the router's live alias."
  value       = aws_lambda_alias.router_live.arn
}
