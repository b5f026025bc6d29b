"""When the database stops taking writes: the storage alarm and the escalation spool."""
