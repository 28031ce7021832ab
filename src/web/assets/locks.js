// The editing sessions page (the lock console): every document open in an editor that the signed-in user may manage
// (admins: all; owners: theirs), kept current from the event stream, and breaking a stuck lock with a reason.
import {
  ago,
  api,
  at,
  describeClient,
  el,
  followEvents,
  formatClock,
  formatTime,
  hueOf,
  initials,
  keepTimesFresh,
  say,
  showLiveState,
  wireDialogCloseButtons,
} from './common.js';

const list = document.getElementById('sessions');
const empty = document.getElementById('sessions-empty');
const loading = document.getElementById('locks-loading');
const dialog = document.getElementById('break-dialog');
const form = document.getElementById('break-form');
const reasonInput = document.getElementById('break-reason');
const reasonError = document.getElementById('break-error');
const confirmButton = document.getElementById('break-confirm');

let me = null;
/** The sessions shown, by file id. */
let shown = new Map();

const path = (id) => encodeURIComponent(id);
const sameDay = (a, b) => new Date(a).toDateString() === new Date(b).toDateString();
/** A clock time today, a date and time otherwise. */
const when = (iso) =>
  el('time', {
    datetime: iso,
    title: formatTime(iso),
    text: sameDay(iso, Date.now()) ? formatClock(iso) : formatTime(iso),
  });

/** The people X-WOPI-Editors named at the last save (user ids; the lock holder by name). */
const editorsOf = (s) =>
  (s.editors ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
    .map((id) => (id === s.by?.id ? s.by.name : id));

function holder(s) {
  const client = describeClient(s.client);
  const via = client ? [' in ', el('span', { class: 'client', title: s.client, text: client })] : [];
  if (!s.by)
    return [el('span', { class: 'avatar hue-none', 'aria-hidden': 'true', text: '?' }), 'Open in an editor', ...via];
  return [
    el('span', { class: `avatar ${hueOf(s.by.id)}`, 'aria-hidden': 'true', text: initials(s.by.name) }),
    el('strong', { class: 'who', text: s.by.name }),
    ' is editing',
    ...via,
  ];
}

const fact = (label, ...value) => el('div', { class: 'fact' }, el('dt', { text: label }), el('dd', {}, ...value));

function facts(s) {
  const editors = editorsOf(s);
  return [
    s.since ? fact('Since', ago(s.since)) : null,
    s.lastRefresh ? fact('Last refresh', ago(s.lastRefresh)) : null,
    fact(
      'Last save',
      ...(s.lastSave
        ? [ago(s.lastSave), editors.length ? el('span', { class: 'sub', text: `with ${editors.join(', ')}` }) : null]
        : [el('span', { class: 'muted', text: 'Not saved yet' })]),
    ),
    fact('Lock runs out', ago(s.expiresAt), el('span', { class: 'sub', text: 'unless the editor refreshes it' })),
  ];
}

function sessionItem(s) {
  const breakButton = el('button', {
    type: 'button',
    class: 'danger outline',
    text: 'Break lock',
    'aria-label': `Break the lock on ${s.name}`,
    onclick: () => openBreakDialog(s, breakButton),
  });
  return el(
    'li',
    { class: 'session', 'data-file': s.fileId, 'data-name': s.name },
    el(
      'div',
      { class: 'session-head' },
      el(
        'div',
        { class: 'session-title' },
        el('h2', {}, el('a', { href: at(`/files/${path(s.fileId)}`), text: s.name })),
        el('p', { class: 'session-who' }, ...holder(s)),
      ),
      breakButton,
    ),
    el('dl', { class: 'facts' }, ...facts(s)),
    s.idleReleaseAt
      ? el(
          'p',
          { class: 'auto-release' },
          'Released automatically at ',
          when(s.idleReleaseAt),
          ' if the editor stays idle.',
        )
      : null,
    el(
      'p',
      { class: 'session-links' },
      el('a', { href: at(`/files/${path(s.fileId)}`), text: 'History', 'aria-label': `History of ${s.name}` }),
      el('a', {
        href: at(`/activity?file=${path(s.fileId)}`),
        text: 'Activity',
        'aria-label': `Activity of ${s.name}`,
      }),
    ),
  );
}

function render(sessions) {
  shown = new Map(sessions.map((s) => [s.fileId, s]));
  const sorted = [...sessions].sort((a, b) => a.name.localeCompare(b.name));
  list.replaceChildren(...sorted.map(sessionItem));
  list.hidden = sorted.length === 0;
  empty.hidden = sorted.length > 0;
  loading.hidden = true;
  const title = document.getElementById('locks-title');
  title.replaceChildren(
    'Editing sessions ',
    ...(sorted.length ? [el('span', { class: 'count', text: String(sorted.length) })] : []),
  );
}

function describeScope() {
  document.getElementById('locks-scope').textContent = me?.isAdmin
    ? 'Every document open in an editor right now. As an admin, you can break any of these locks.'
    : 'Your documents that are open in an editor right now. As their owner, you can break a stuck lock.';
  document.getElementById('sessions-empty-text').textContent = me?.isAdmin
    ? 'No document is open in an editor. When someone opens one, it appears here with who has it and since when.'
    : 'None of your documents is open in an editor. When someone opens one, it appears here with who has it and since when.';
}

async function refresh() {
  try {
    render(await api('GET', at('/api/locks')));
    document.body.dataset.ready = 'true';
  } catch (err) {
    loading.hidden = true;
    say(`Could not load the editing sessions: ${err.message}`, true);
  }
}

/** Takes a broken session off the list: it fades, then the list (or the empty state) is drawn without it. */
function removeSession(fileId) {
  const item = list.querySelector(`li[data-file="${CSS.escape(fileId)}"]`);
  const next = item?.nextElementSibling ?? item?.previousElementSibling;
  shown.delete(fileId);
  const done = () => {
    render([...shown.values()]);
    const focusTarget = next
      ? list.querySelector(`li[data-file="${CSS.escape(next.dataset.file)}"] button`)
      : document.getElementById('sessions-empty-title');
    focusTarget?.focus();
  };
  if (!item || matchMedia('(prefers-reduced-motion: reduce)').matches) return done();
  item.classList.add('leaving');
  setTimeout(done, 250);
}

// ---- breaking a lock: a reason is required, and the dialog says what happens to the editor's work ----
let target = null;
let opener = null;

function openBreakDialog(s, button) {
  target = s;
  opener = button;
  document.getElementById('break-title').textContent = `Break the lock on ${s.name}?`;
  document
    .getElementById('break-text')
    .replaceChildren(
      s.by ? el('strong', { text: s.by.name }) : 'An editor',
      ' will no longer be able to save into it, and others can open it for editing at once. If that editor saves ' +
        'again, Quire refuses the save and keeps it as a rescued save on the history page, so nothing is lost.',
    );
  reasonInput.value = '';
  reasonInput.removeAttribute('aria-invalid');
  reasonError.textContent = '';
  confirmButton.disabled = false;
  confirmButton.textContent = 'Break lock';
  dialog.returnValue = '';
  dialog.showModal();
  reasonInput.focus();
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const reason = reasonInput.value.trim();
  if (!reason) {
    reasonError.textContent = 'Say why you are breaking the lock: the reason is kept in the activity log.';
    reasonInput.setAttribute('aria-invalid', 'true');
    reasonInput.focus();
    return;
  }
  const session = target;
  confirmButton.disabled = true;
  confirmButton.textContent = 'Breaking…';
  try {
    await api('POST', at(`/api/files/${path(session.fileId)}/lock/break`), { reason });
    dialog.close('broken');
    say(`Lock on ${session.name} broken. It can be edited again; your reason is in the activity log.`);
    removeSession(session.fileId);
  } catch (err) {
    if (err.status === 409 || err.status === 404) {
      // the editor closed it (or it was deleted) meanwhile: there is nothing left to break
      dialog.close('gone');
      say(`${session.name} is no longer locked: ${err.message}.`, true);
      removeSession(session.fileId);
      return;
    }
    reasonError.textContent = `Could not break the lock: ${err.message}.`;
    confirmButton.disabled = false;
    confirmButton.textContent = 'Break lock';
  }
});

reasonInput.addEventListener('input', () => {
  if (reasonInput.value.trim()) {
    reasonError.textContent = '';
    reasonInput.removeAttribute('aria-invalid');
  }
});

dialog.addEventListener('close', () => {
  // cancelled (a button or Escape): back to the button that opened it (or the one drawn in its place since)
  if (dialog.returnValue === 'broken' || dialog.returnValue === 'gone') return;
  const again = target && list.querySelector(`li[data-file="${CSS.escape(target.fileId)}"] button`);
  (opener?.isConnected ? opener : again)?.focus();
});

// ---- live: a lock taken, refreshed, released or broken, a save, a rename or a delete anywhere redraws the list ----
const CONCERNS = /^(lock\.|file\.(saved|renamed|deleted)$)/;
let pending;
function onEvent(event) {
  if (!CONCERNS.test(event.type)) return;
  clearTimeout(pending);
  pending = setTimeout(async () => {
    await refresh();
    document.body.dataset.liveEvent = String(event.id);
  }, 250);
}

async function start() {
  wireDialogCloseButtons();
  keepTimesFresh();
  try {
    const [who, [newest]] = await Promise.all([api('GET', at('/api/me')), api('GET', at('/api/events?limit=1'))]);
    me = who;
    describeScope();
    // from the newest event known before the list is read: nothing that happens after it is missed
    followEvents(onEvent, { after: newest?.id ?? 0, onState: showLiveState });
  } catch (err) {
    say(err.message, true);
  }
  await refresh();
  // a lock that runs out says nothing: look again now and then
  setInterval(refresh, 60_000);
}

start();
