"""Gateway: the one front door to the services."""
