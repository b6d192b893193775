"""Use cases: plain functions over the store. Each takes the calling user and checks access first."""
