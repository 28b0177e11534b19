variable "env" {}
