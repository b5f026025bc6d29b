// Recorded prompts (dialog editor): upload a WAV/MP3 take per piece, or record one in the
// browser. MediaRecorder gives webm/ogg; the server accepts WAV and MP3 only, so the take is
// decoded here (Web Audio) and sent as a 16-bit mono WAV (written by hand: a few lines).
"use strict";
(function () {
  const card = document.getElementById("recordings");
  if (!card) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const texts = JSON.parse(document.getElementById("rec-i18n").textContent);
  const message = document.getElementById("rec-message");
  const url = `/dialogs/${card.dataset.slug}/recordings`;

  function say(text, bad) {
    message.hidden = false;
    message.textContent = text;
    message.className = bad ? "error" : "notice";
  }

  async function send(piece, blob, filename) {
    const form = new FormData();
    form.append("version", card.dataset.version);
    form.append("text", piece.dataset.text);
    form.append("file", blob, filename);
    say(texts["Uploading…"], false);
    let body = {};
    const resp = await fetch(url, {method: "POST", credentials: "same-origin",
                                   headers: {"X-CSRF-Token": csrf}, body: form});
    try { body = await resp.json(); } catch (e) { body = {}; }
    if (resp.ok && body.ok) {
      say(texts["Saved."], false);
      window.location.reload();
    } else {
      say(body.message || texts.failed, true);
    }
  }

  function wavFile(buffer) {
    const n = buffer.length, rate = buffer.sampleRate, chans = buffer.numberOfChannels;
    const out = new DataView(new ArrayBuffer(44 + 2 * n));
    const str = (o, s) => { for (let i = 0; i < s.length; i++) out.setUint8(o + i, s.charCodeAt(i)); };
    str(0, "RIFF"); out.setUint32(4, 36 + 2 * n, true); str(8, "WAVE"); str(12, "fmt ");
    out.setUint32(16, 16, true); out.setUint16(20, 1, true); out.setUint16(22, 1, true);
    out.setUint32(24, rate, true); out.setUint32(28, 2 * rate, true); out.setUint16(32, 2, true);
    out.setUint16(34, 16, true); str(36, "data"); out.setUint32(40, 2 * n, true);
    const data = [];
    for (let c = 0; c < chans; c++) data.push(buffer.getChannelData(c));
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (const d of data) v += d[i];
      v = Math.max(-1, Math.min(1, v / chans));
      out.setInt16(44 + 2 * i, v < 0 ? v * 0x8000 : v * 0x7fff, true);
    }
    return new Blob([out.buffer], {type: "audio/wav"});
  }

  let active = null; // {recorder, button, piece, chunks}

  async function toggle(button, piece) {
    if (active) {
      active.recorder.stop();
      return;
    }
    if (!navigator.mediaDevices || !window.MediaRecorder) { say(texts["no-mic"], true); return; }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({audio: true});
    } catch (e) { say(texts["no-mic"], true); return; }
    const recorder = new MediaRecorder(stream);
    const chunks = [];
    recorder.ondataavailable = (e) => chunks.push(e.data);
    recorder.onstop = async () => {
      stream.getTracks().forEach((t) => t.stop());
      button.textContent = texts.Record;
      button.classList.remove("on");
      active = null;
      try {
        const ctx = new AudioContext();
        const decoded = await ctx.decodeAudioData(await new Blob(chunks).arrayBuffer());
        await send(piece, wavFile(decoded), "recording.wav");
      } catch (e) { say(texts.failed, true); }
    };
    active = {recorder, button, piece};
    button.textContent = texts.Stop;
    button.classList.add("on");
    recorder.start();
  }

  for (const piece of card.querySelectorAll(".rec-piece")) {
    const file = piece.querySelector(".rec-file");
    file.addEventListener("change", () => {
      if (file.files.length) send(piece, file.files[0], file.files[0].name);
    });
    const button = piece.querySelector(".rec-record");
    button.addEventListener("click", () => toggle(button, piece));
  }
})();
