# State lives in S3 so that it survives from the plan build to the apply build (each build starts
# from a fresh checkout). use_lockfile: every command that writes state first takes a lock object
# beside it (<key>.tflock, created with a conditional PutObject), so two runs never write the
# same state at once. The other settings come from terraform.backend_config in lmi-delivery.yml;
# the endpoint from AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, as Terraform's s3 backend reads them.
terraform {
  backend "s3" {
    use_lockfile = true
  }
}
