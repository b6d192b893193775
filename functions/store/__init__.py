"""The only code that talks to AWS (DynamoDB, S3, Lambda, Secrets Manager; SageMaker is ml/'s). It speaks
domain records and raises domain errors."""
