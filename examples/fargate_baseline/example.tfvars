# Inputs of the `fargate-baseline` stack: the Fargate baseline (examples/fargate_baseline).
# EVERY VALUE BELOW IS FAKE (account 123456789012 is AWS's documentation account).
# Copy this file (e.g. to prod.tfvars, which is never packaged), put your own ids, then
#   cd cdktf.out/stacks/fargate-baseline && terraform apply -var-file=/path/to/prod.tfvars
# or export TF_VAR_<name>=... for each. Terraform checks each value's shape first.

# The existing VPC the stack runs in.
vpc_id = "vpc-0a1b2c3d4e5f67890"

# Private subnets of that VPC, in 2 or more Availability Zones (functions, tasks, cache, database, proxy).
private_subnet_ids = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]

# Public subnets (a route to an internet gateway) in 2 or more Availability Zones, for the load balancer.
public_subnet_ids = ["subnet-0b1c2d3e4f5a60718", "subnet-0e1d2c3b4a5f69788"]

# Existing security groups of the Fargate tasks: their egress (443 to AWS APIs and ECR through a NAT gateway or VPC endpoints).
task_security_group_ids = ["sg-0123456789abcdef0"]

# ARN of the SSM SecureString parameter holding APP_KEY.
app_key_parameter_arn = "arn:aws:ssm:us-east-1:123456789012:parameter/example-laravel/app-key"

# Name (not ARN) of the existing IAM role the deploy pipeline runs as; it runs the database's bootstrap SQL once.
deploy_role_name = "example-laravel-deploy"

# The public name of the app (its DNS record is yours to create).
domain_name = "app.example.com"

# ACM certificate for domain_name (CloudFront and the load balancer take it from us-east-1, where these examples run).
certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8899-aabbccddeeff"

# The app's php-fpm image in ECR, by tag or digest.
php_image_uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/example-laravel/php:1.0.0"

# The nginx image in front of php-fpm, in ECR.
nginx_image_uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/example-laravel/nginx:1.0.0"
