"""Scripts that print figures (gas, throughput, latency); not tests, nothing here fails."""
