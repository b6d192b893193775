"""The sqlite store engine: DynamoDB's operations answered in-process from a SQLite database."""
