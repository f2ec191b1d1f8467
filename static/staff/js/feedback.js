// Sound, vibration and speech, so the clerk knows the result without looking.

// [frequency, start, length] in seconds: a rising chime for success, a flat double knock for a
// voucher already used, a falling buzz for any other refusal.
const SOUNDS = {
  ok: { wave: "sine", notes: [[880, 0, 0.09], [1320, 0.11, 0.14]], buzz: 80 },
  used: { wave: "triangle", notes: [[440, 0, 0.12], [440, 0.2, 0.12]], buzz: [120, 60, 120] },
  refused: { wave: "square", notes: [[220, 0, 0.2], [170, 0.25, 0.35]], buzz: [200, 80, 200] },
  // Taken offline, not yet confirmed by the server: one soft, level note.
  pending: { wave: "sine", notes: [[660, 0, 0.25]], buzz: [60, 60, 60] },
};
const SPEECH = "hx-speech"; // "off" on a device whose clerk switched speech off

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
  const sound = SOUNDS[tone] || SOUNDS.refused;
  beep(sound);
  if (navigator.vibrate) navigator.vibrate(sound.buzz);
}

export function speechOn() {
  return localStorage.getItem(SPEECH) !== "off";
}

export function setSpeech(on) {
  localStorage.setItem(SPEECH, on ? "on" : "off");
}

// Says the result aloud where the device can speak, in the page's language; a new result cuts the last short.
export function speak(text, lang) {
  if (!text || !speechOn() || !window.speechSynthesis || !window.SpeechSynthesisUtterance) return;
  const utterance = new SpeechSynthesisUtterance(text);
  utterance.lang = lang;
  window.speechSynthesis.cancel();
  window.speechSynthesis.speak(utterance);
}
