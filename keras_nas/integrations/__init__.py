"""Integrations with other tools: our strategies inside a user's own
Ray Tune (`ray_tune.NASSearcher`)."""
