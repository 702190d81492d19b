"""The front stage: `NASSearch`, its validated configuration, reading a
finished search, an ensemble of its models, and the project folder on
disk."""
