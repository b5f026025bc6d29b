"""The SIP stack of one worker: the endpoint, its user agents, calls, messages, SDP and the edge's defences."""
