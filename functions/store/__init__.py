"""The only code that talks to DynamoDB and S3. It speaks domain records and raises domain errors."""
