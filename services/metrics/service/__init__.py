"""Use cases of the metrics service, one transaction each; `consumed` runs them for events."""
