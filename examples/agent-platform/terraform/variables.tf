variable "service" {
  type        = string
  description = "Service name: the {service} placeholder of lmi-delivery.yml."
  default     = "agent-core"
}

variable "environment" {
  type        = string
  description = "Environment name: the {env} placeholder of lmi-delivery.yml."

  validation {
    condition     = contains(["dev", "qa", "prod"], var.environment)
    error_message = "The environment must be one of dev, qa, prod."
  }
}

variable "region" {
  type        = string
  description = "AWS region of the environment."
  default     = "us-east-1"
}

variable "unsupported_azs" {
  type        = list(string)
  description = "Availability zones without Lambda Managed Instances support (gates.validation.unsupported_azs)."
  default     = ["us-east-1e"]
}

variable "instance_types" {
  type        = list(string)
  description = "Graviton instance types the capacity provider may launch."
  default     = ["m6g.large", "m6g.xlarge", "m7g.large", "m7g.xlarge"]
}

variable "max_vcpu_count" {
  type        = number
  description = "Upper bound of the capacity provider's pool, in vCPUs."
  default     = 64
}

variable "router_memory_gib_per_vcpu" {
  type        = number
  description = "Memory per vCPU of each router execution environment (2, 4 or 8 GiB)."
  default     = 2
}

variable "router_max_concurrency" {
  type        = number
  description = "Concurrent requests one router execution environment serves (1 to 1600)."
}

variable "router_memory_mb" {
  type        = number
  description = "Memory of the router function in MB (at least 2048 on managed instances)."
  default     = 2048
}
