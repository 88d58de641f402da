"""leadscore: the thin shell (settings and CLI) that wires data, features, models,
training and serving together."""
