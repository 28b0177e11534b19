# State in S3, one key per root (terraform.roots.<root>.backend_config in lmi-delivery.yml).
terraform {
  backend "s3" {
    use_lockfile = true
  }
}
