resource "aws_lambda_capacity_provider" "shared" {
  name = local.capacity_provider_name

  vpc_config {
    subnet_ids         = data.aws_subnets.default.ids
    security_group_ids = [aws_security_group.capacity_provider.id]
  }

  permissions_config {
    capacity_provider_operator_role_arn = aws_iam_role.operator.arn
  }

  instance_requirements {
    architectures          = ["arm64"]
    allowed_instance_types = var.instance_types
  }

  capacity_provider_scaling_config {
    scaling_mode   = "Auto"
    max_vcpu_count = var.max_vcpu_count
  }

  depends_on = [aws_iam_role_policy_attachment.operator]
}
