"""Common library of the Locality Hub services: no business rules, never imports `services`."""
