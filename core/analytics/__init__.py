"""Read services for the marketing and sponsor dashboards: SQL aggregates, no writes."""
