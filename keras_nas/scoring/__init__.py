"""The scoring stage: candidates scored without training (zero-cost
proxies, the ranking of a pool, the warm start) and latency measured."""
