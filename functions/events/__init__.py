"""Consumers of DynamoDB stream records (ARCHITECTURE.md, "Events"): adapt a record, hand it on."""
