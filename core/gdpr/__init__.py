"""GDPR data-subject requests: intake and status (requests), discovery, the export bundle
(a background job), erasure with its verification scan, rectification and restriction."""
