"""One call through the speech pipeline: the seam between telephony and speech.

    record = await run_call(transport, request, resources)

`transport` — a pipecat `BaseTransport` built by the telephony side (SIP/RTP, Twilio
websocket) or by `bot.pipeline.offline` (files, tests):
  * `transport.input()` pushes downstream `InputAudioRawFrame` (8000 Hz, mono, 16-bit
    little-endian PCM; any chunk size, 20 ms is typical) and `InputDTMFFrame` (RFC 4733
    or SIP INFO digits). When the far end hangs up (BYE, websocket close, media timeout)
    it pushes `bot.pipeline.frames.CallerHangUpFrame` downstream (a pushed `EndFrame`
    or `CancelFrame` is also taken as a hang-up).
  * `transport.output()` consumes `OutputAudioRawFrame`s (8000 Hz mono 16-bit PCM, the
    call's rate: no resampling anywhere in the call). On `InterruptionFrame` (barge-in)
    it drops every unsent byte at once. On `EndFrame` it sends what is queued, then hangs
    up (the goodbye prompt is fully sent before the BYE); on `CancelFrame` it hangs up at
    once. The bot never asks the transport for VAD: `TransportParams.vad_analyzer` stays None.
`request` — `bot.calls.CallRequest`: `script` (a loaded `Script`), `person`, `variables`,
  `prefilled_slots`; `on_turn(turn)` is called for every Turn as it happens (before the
  next action runs), so a crash mid-call leaves the turns stored.
`resources` — `SpeechResources`, one per process, built before the first call (and before
  forking worker processes, so the model's memory is shared):
      resources = SpeechResources.load(config, locales=["ko-KR"])
      resources.prepare(script)        # renders every fixed prompt into the prompt cache
  It holds the Vosk `Model`s (shared; each call makes its own recognizer), the TTS worker
  and the on-disk prompt cache.

Returns the final `CallRecord` (outcome hung_up if the caller left first). Caller audio
of each answer is kept as `<audio_dir>/<nn>-<step>.wav` (8 kHz PCM); `audio_dir` defaults
to `call_audio_dir(resources, request)`. A watchdog ends a call whose pipeline makes no
progress for `watchdog_secs`; the record is complete before the line is dropped.
"""
