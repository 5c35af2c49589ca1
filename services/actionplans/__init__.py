"""Action plans: each locality's issue-based plans, targets, actions and reviews."""
