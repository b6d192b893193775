"""Lambda entry points: adapt an AWS event to a service call, nothing more."""
