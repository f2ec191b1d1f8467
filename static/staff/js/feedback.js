// Sound and vibration, so the clerk knows the result without looking.

// [frequency, start, length] in seconds. Already used sounds like any other refusal.
const SOUNDS = {
  ok: { wave: "sine", notes: [[880, 0, 0.09], [1320, 0.11, 0.14]], buzz: 80 },
  refused: { wave: "square", notes: [[220, 0, 0.2], [170, 0.25, 0.35]], buzz: [200, 80, 200] },
};

let audio = null;

// Browsers allow sound only after a tap or key press: the audio context opens on the first one.
export function unlockAudio() {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!audio && Ctx) audio = new Ctx();
  if (audio && audio.state === "suspended") audio.resume();
}

function beep(sound) {
  if (!audio) return;
  sound.notes.forEach(([frequency, at, length]) => {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    const start = audio.currentTime + at;
    osc.type = sound.wave;
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.25, start);
    gain.gain.exponentialRampToValueAtTime(0.001, start + length);
    osc.connect(gain);
    gain.connect(audio.destination);
    osc.start(start);
    osc.stop(start + length);
  });
}

// tone: "ok", "used" or "refused", as screens.js gives it.
export function feedback(tone) {
  const sound = tone === "ok" ? SOUNDS.ok : SOUNDS.refused;
  beep(sound);
  if (navigator.vibrate) navigator.vibrate(sound.buzz);
}
