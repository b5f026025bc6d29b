"""The per-call pipecat pipeline: transport in -> VAD -> Vosk -> dialog -> prompts -> transport out."""
