# Inputs of the `test-runner` stack: the test runner (examples/test_runner).
# EVERY VALUE BELOW IS FAKE (account 123456789012 is AWS's documentation account).
# Copy this file (e.g. to prod.tfvars, which is never packaged), put your own ids, then
#   cd cdktf.out/stacks/test-runner && terraform apply -var-file=/path/to/prod.tfvars
# or export TF_VAR_<name>=... for each. Terraform checks each value's shape first.

# The existing VPC the stack runs in.
vpc_id = "vpc-0a1b2c3d4e5f67890"

# Private subnets of that VPC, in 2 or more Availability Zones (functions, tasks, cache, database, proxy).
private_subnet_ids = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]

# Existing security groups of the test runner: 443 out to the VPC endpoints (S3, Secrets Manager, SSM) or a NAT gateway.
egress_security_group_ids = ["sg-0123456789abcdef0"]

# ARN of the SSM SecureString parameter holding the test suite's APP_KEY.
testing_app_key_parameter_arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/example-laravel/testing-app-key"

# Tag of the test runner image pushed to the stack's ECR repository.
image_tag = "2026-11-30-3f1c2a9"

# Identifier of the existing RDS instance kept for tests.
test_database = "laravel-testing"

# Security group of that test database (the stack adds one ingress rule from its proxy).
test_database_security_group_id = "sg-0fedcba9876543210"

# Secrets Manager secret of the test database's app user.
app_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:laravel-testing/app-AbC123"

# Secrets Manager secret of the test database's migration user (the test suite runs migrations).
migration_secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:laravel-testing/migrator-DeF456"
