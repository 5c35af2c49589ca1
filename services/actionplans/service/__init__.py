"""Use cases of the actionplans service, one module per concept; one transaction each."""
