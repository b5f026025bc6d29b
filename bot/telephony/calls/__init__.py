"""What a call does on the line: the SIP runner, the worker's endpoint, keypad conversations, caller verification, storage faults, the scripted softphone."""
