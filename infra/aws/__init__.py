"""The AWS deployment: CDK constructs composed into one stack (`infra/app.py` is the CDK app)."""
