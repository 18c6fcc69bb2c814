"""Core services: one verb per user action, each in one unit of work."""
