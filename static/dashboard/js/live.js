// The live feed's WebSocket: reconnects with backoff and asks for what it missed.

const PING_MS = 20000;
const SILENT_MS = 50000; // no answer to pings for this long: the connection is dead, start over
const STABLE_MS = 10000; // a connection that lasted this long resets the backoff
const FORBIDDEN = 4403; // the server's close code for a login that may not see the feed
const SIGNED_OUT = 4401; // ... and for a device the owner signed out

// Milliseconds before reconnect attempt number retries (0 first): doubling up to 30 s, with jitter so
// dashboards dropped by one restart do not all come back in the same instant.
export function backoff(retries, random = Math.random) {
  const delay = Math.min(30000, 1000 * Math.pow(2, retries));
  return delay / 2 + random() * delay / 2;
}

// What one message of the feed carries: a batch (the page asks for them with ?batch=1) is an array
// of events, oldest first; a single event comes as itself.
export function eventsIn(data) {
  return Array.isArray(data) ? data : [data];
}

// url(): where to connect now (with ?after= the last event seen); onMessage(event) for each event;
// onState(name): "connecting", "reconnecting", "live", "forbidden" or "signed-out".
export function connectLive({ url, onMessage, onState }) {
  let socket = null;
  let retries = 0;
  let retryTimer = null;
  let heard = 0;
  let opened = 0;

  function connect() {
    retryTimer = null;
    opened = 0;
    onState(retries ? "reconnecting" : "connecting");
    socket = new WebSocket(url());
    socket.onopen = () => {
      opened = heard = Date.now();
      onState("live");
    };
    socket.onmessage = (m) => {
      heard = Date.now();
      eventsIn(JSON.parse(m.data)).forEach(onMessage);
    };
    socket.onclose = (e) => {
      socket = null;
      // Only a connection that held resets the backoff: one a server drops at once must not bring us back every second.
      if (opened && Date.now() - opened > STABLE_MS) retries = 0;
      if (e.code === FORBIDDEN || e.code === SIGNED_OUT) {
        onState(e.code === FORBIDDEN ? "forbidden" : "signed-out");
        return;
      }
      reconnectLater();
    };
  }

  function reconnectLater() {
    onState("reconnecting");
    retryTimer = setTimeout(connect, backoff(retries++));
  }

  // A connection through a sleeping laptop or a shop router can die without a close frame.
  function heartbeat() {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() - heard > SILENT_MS) {
      const dead = socket;
      dead.onclose = dead.onmessage = null;
      socket = null;
      dead.close();
      reconnectLater();
      return;
    }
    socket.send(JSON.stringify({ type: "ping" }));
  }

  function reconnectNow() {
    if (!retryTimer) return;
    clearTimeout(retryTimer);
    retries = 0;
    connect();
  }

  window.addEventListener("online", reconnectNow);
  setInterval(heartbeat, PING_MS);
  connect();
}
