"""HTTP: the session, rate limits, prefetch, retries, redaction."""
