"""Code that runs inside Lambda: standard library and boto3 only, nothing else of this package."""
