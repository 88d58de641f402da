"""The data contract, the synthetic CRM generator and data readers."""
