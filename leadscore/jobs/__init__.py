"""The leadscore jobs: each wires settings to the packages and prints its progress and results."""
