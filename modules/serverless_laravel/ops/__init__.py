"""Operations layer: work on a deployed app through the AWS SDK (boto3). No CDK engine."""
