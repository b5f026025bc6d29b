"""Audio for veribot: G.711, WAV in/out, the Vosk recognizer, prompt synthesis and models."""
