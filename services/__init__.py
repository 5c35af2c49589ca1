"""The Locality Hub services."""
