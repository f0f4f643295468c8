"""Checklists, runbooks and the executor that runs them."""
