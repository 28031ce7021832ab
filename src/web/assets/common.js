// What every page script of Quire shares: the JSON API, building elements (text only: nothing a user wrote ever
// becomes HTML), times as people say them, the page's message, and the live event stream.

/** The path Quire is served under ('' at the root of its site, '/office' when mounted there): where this came from. */
export const base = new URL(import.meta.url).pathname.replace(/\/static\/[^/]*$/, '');

/** A path of Quire's ("/api/files") as the browser must ask for it; URLs the API hands out already are. */
export const at = (path) => `${base}${path}`;

/** The page's one message line (role="status"): what the last action did, or why it failed. */
export function say(text, isError = false) {
  const message = document.getElementById('message');
  message.textContent = text;
  message.classList.toggle('error', isError);
}

export async function api(method, url, body) {
  const init = { method, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (res.status === 401) {
    const here = location.pathname.startsWith(`${base}/`) ? location.pathname.slice(base.length) : '/';
    window.location.assign(at(`/login?next=${encodeURIComponent(here + location.search)}`));
    throw new Error('signed out');
  }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) {
    const err = new Error(data?.error || `request failed (${res.status})`);
    err.status = res.status;
    throw err;
  }
  return data;
}

/** An element: `text` sets its text, `on…` adds a listener, anything else is an attribute; children are nodes or text. */
export const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : v);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
};

/** A table cell that, on a phone, shows its column's name before its value. */
export const cell = (label, ...children) => el('td', { 'data-label': label }, ...children);

export const formatSize = (n) => {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = -1;
  do {
    v /= 1024;
    i++;
  } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
};

export const formatTime = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
export const formatClock = (iso) => new Date(iso).toLocaleTimeString(undefined, { timeStyle: 'short' });

/** "just now", "3 min ago", "in 20 min", "2 hours ago", "yesterday", or the date. */
export function relativeTime(iso, now = Date.now()) {
  const ms = Date.parse(iso) - now;
  const future = ms > 0;
  const abs = Math.abs(ms);
  const minutes = Math.round(abs / 60_000);
  const phrase = (n, unit) => (future ? `in ${n} ${unit}` : `${n} ${unit} ago`);
  if (abs < 45_000) return future ? 'in a moment' : 'just now';
  if (minutes < 60) return phrase(Math.max(1, minutes), 'min');
  const hours = Math.round(abs / 3_600_000);
  if (hours < 24) return phrase(hours, hours === 1 ? 'hour' : 'hours');
  const days = Math.round(abs / 86_400_000);
  if (days === 1) return future ? 'tomorrow' : 'yesterday';
  if (days < 7) return phrase(days, 'days');
  return formatTime(iso);
}

/** A <time> that says how long ago (kept current by `keepTimesFresh`), with the exact time on hover. */
export const ago = (iso, attrs = {}) =>
  el('time', { datetime: iso, title: formatTime(iso), 'data-relative': '', text: relativeTime(iso), ...attrs });

/** Every relative time on the page is redrawn twice a minute, so "just now" does not stay "just now". */
export function keepTimesFresh() {
  setInterval(() => {
    for (const t of document.querySelectorAll('time[data-relative]')) t.textContent = relativeTime(t.dateTime);
  }, 30_000);
}

/** A client as people know it: "Chrome on Linux" for a browser, the editor's own name, or its User-Agent cut short. */
export function describeClient(agent) {
  if (!agent) return null;
  if (/COOLWSD|LOOLWSD|Collabora/i.test(agent)) return 'Collabora Online';
  if (/ONLYOFFICE/i.test(agent)) return 'ONLYOFFICE';
  const browser = /Edg\//.test(agent)
    ? 'Edge'
    : /Firefox\//.test(agent)
      ? 'Firefox'
      : /Chrom(e|ium)\//.test(agent)
        ? 'Chrome'
        : /Version\/.*Safari\//.test(agent)
          ? 'Safari'
          : null;
  if (browser) {
    const os = /Android/.test(agent)
      ? 'Android'
      : /iPhone|iPad/.test(agent)
        ? 'iOS'
        : /Windows/.test(agent)
          ? 'Windows'
          : /Macintosh|Mac OS X/.test(agent)
            ? 'macOS'
            : /CrOS/.test(agent)
              ? 'ChromeOS'
              : /Linux|X11/.test(agent)
                ? 'Linux'
                : null;
    return os ? `${browser} on ${os}` : browser;
  }
  return agent.length > 40 ? `${agent.slice(0, 39)}…` : agent;
}

/** An address as people read it: IPv4 without its IPv6 wrapping. */
export const describeAddress = (address) => address?.replace(/^::ffff:/, '');

/** The protocol's reasons for refusing a save, as people would say them (the exact reason stays in the title). */
export const REFUSALS = {
  'lock mismatch': 'Someone else had it open for editing',
  'file is locked and the request carries no lock': 'Someone else had it open for editing',
  'target file is locked': 'The file it would replace was open for editing',
  'file is not locked': "The editor's lock had run out",
  'file is not locked and is not empty': "The editor's lock had run out, or it never locked",
  'file changed since the editor last read it': 'The document had changed since the editor opened it',
};

/** Initials for an avatar: "Ann Editor" → "AE", "root" → "R". */
export const initials = (name) =>
  (name || '?')
    .split(/[\s._-]+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((w) => [...w][0].toUpperCase())
    .join('') || '?';

/** One of eight colours, the same for the same person on every page. */
export const hueOf = (key) => {
  let h = 0;
  for (const c of key || '') h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `hue-${h % 8}`;
};

/**
 * Follows the server's event stream (every save, lock, rename … made anywhere). `after`, the newest event the page
 * already knows, lets the server send whatever happened between that and the stream opening. `onState` hears
 * 'live', 'reconnecting' or 'closed'; the page's <body data-live> says the same, for tests and styles.
 */
export function followEvents(onEvent, { after, onState = () => {} } = {}) {
  if (!('EventSource' in window)) return null;
  const stream = new EventSource(at(`/api/events/stream${after === undefined ? '' : `?after=${after}`}`));
  const state = (s) => {
    document.body.dataset.live = s;
    onState(s);
  };
  stream.addEventListener('open', () => state('live'));
  stream.addEventListener('error', () => state(stream.readyState === EventSource.CLOSED ? 'closed' : 'reconnecting'));
  stream.addEventListener('quire', (message) => onEvent(JSON.parse(message.data)));
  return stream;
}

/** The "Live" badge in a page's head follows the stream's state. */
export function showLiveState(state) {
  const badge = document.getElementById('live');
  if (!badge) return;
  badge.dataset.state = state;
  badge.lastChild.textContent = state === 'live' ? 'Live' : state === 'reconnecting' ? 'Reconnecting…' : 'Offline';
  badge.title =
    state === 'live'
      ? 'Changes made anywhere appear here as they happen'
      : 'Live updates are interrupted; reload the page to see the latest';
}

/** Buttons marked data-close close their dialog. */
export function wireDialogCloseButtons() {
  for (const close of document.querySelectorAll('[data-close]')) {
    close.addEventListener('click', () => close.closest('dialog').close('cancel'));
  }
}

/**
 * Copies a read-only field's value (a link, a key, a secret) and says so through `tell`; where the browser allows no
 * clipboard (an insecure page, or it said no) the value is selected for copying by hand instead. `what` names it in
 * the messages ("the key"); the button reads "Copied" for two seconds.
 */
export async function copyField(field, button, what, tell = say) {
  const label = button.textContent;
  try {
    if (!navigator.clipboard?.writeText) throw new Error('no clipboard');
    await navigator.clipboard.writeText(field.value);
    tell(`${what[0].toUpperCase()}${what.slice(1)} is copied to the clipboard.`);
    button.textContent = 'Copied';
    setTimeout(() => {
      if (button.isConnected) button.textContent = label;
    }, 2000);
  } catch {
    field.focus();
    field.select();
    tell(`The browser did not allow copying: ${what} is selected, press Ctrl+C (⌘C on a Mac) to copy it.`);
  }
}
