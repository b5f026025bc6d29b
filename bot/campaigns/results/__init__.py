"""A call's results: the recorder, exports and their layouts, the webhook outbox."""
