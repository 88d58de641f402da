"""The assignment policy: who works a lead or customer, and how to judge the choice."""
