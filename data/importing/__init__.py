"""Importing a real CRM export into the contract tables (issue #5)."""
