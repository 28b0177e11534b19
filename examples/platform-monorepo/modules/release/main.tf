# The release record every service root keeps for its function: a local module the service
# roots call, so a change here plans both of them.
variable "function" {
  type = string
}

variable "release" {
  type = string
}

resource "terraform_data" "release" {
  input = {
    function = var.function
    release  = var.release
  }
}

output "release" {
  value = terraform_data.release.output
}
