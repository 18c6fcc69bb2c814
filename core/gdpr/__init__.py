"""GDPR data-subject requests: intake and status (requests), the personal-data registry
(registry, categories, coverage), discovery, the export bundle (a background job), erasure
with its review of matches in other people's records (review) and its verification scan,
rectification and restriction."""
