"""`leadscore report`: the operational store's funnel, speed, workload, backtest and drift."""
