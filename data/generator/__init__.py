"""A synthetic two-year CRM history with a hidden ground truth, and its CRM exports."""
