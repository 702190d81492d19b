"""The front stage: `NASSearch`, its validated configuration, reading a
finished search, and the project folder on disk."""
