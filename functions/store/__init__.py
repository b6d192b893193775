"""The only code that knows where data lives: AWS (DynamoDB, S3, SQS, Lambda, Secrets Manager; SageMaker is
ml/'s) on the `dynamodb` engine, or a SQLite database and a files directory on the `sqlite` engine
(`functions/store/sqlite/`). It speaks domain records and raises domain errors."""
