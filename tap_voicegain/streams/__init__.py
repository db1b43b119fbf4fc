"""The streams: the call list walked by passes, and what each stream emits."""
