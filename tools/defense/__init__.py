"""Defense: profile history, regression detection, root cause and mitigation."""
