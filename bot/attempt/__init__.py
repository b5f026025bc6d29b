"""One call attempt to one person, as a typed object (issue 21): `Attempt` carries the person, the
script, the storage guard, the clip directory and the transport's dialog; its methods are the
only writers of person, attempt and escalation rows (record as the call happens, escalate,
settle at the end, resolve when an operator closes the case) and the only place the result
payload (the webhook's body) is built."""
