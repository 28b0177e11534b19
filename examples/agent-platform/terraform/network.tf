data "aws_vpc" "default" {
  default = true
}

# Lambda Managed Instances is not offered in every availability zone: leave those out.
data "aws_availability_zones" "supported" {
  state         = "available"
  exclude_names = var.unsupported_azs
}

data "aws_subnets" "default" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default.id]
  }

  filter {
    name   = "availability-zone"
    values = data.aws_availability_zones.supported.names
  }

  filter {
    name   = "default-for-az"
    values = ["true"]
  }
}

resource "aws_security_group" "capacity_provider" {
  name        = "${local.capacity_provider_name}-instances"
  description = "Instances of the ${local.capacity_provider_name} capacity provider"
  vpc_id      = data.aws_vpc.default.id
}

resource "aws_vpc_security_group_egress_rule" "https" {
  security_group_id = aws_security_group.capacity_provider.id
  description       = "HTTPS to AWS APIs and model endpoints"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}
