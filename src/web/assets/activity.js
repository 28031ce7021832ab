// The activity page: the event log as sentences ("Ann saved version 5 of Report.docx"), newest first, by document
// and by person, paged back with "Load more", exported as JSON lines, and new events added as they happen.
import {
  ago,
  api,
  at,
  describeAddress,
  describeClient,
  el,
  followEvents,
  hueOf,
  initials,
  keepTimesFresh,
  REFUSALS,
  say,
  showLiveState,
} from './common.js';

const PAGE = 50;

const container = document.getElementById('activity');
const empty = document.getElementById('activity-empty');
const loading = document.getElementById('activity-loading');
const moreButton = document.getElementById('load-more');
const logStart = document.getElementById('log-start');
const fileSelect = document.getElementById('filter-file');
const userSelect = document.getElementById('filter-user');
const clearButton = document.getElementById('filter-clear');
const exportLink = document.getElementById('export');

/** What is shown: the filters, the events loaded (newest first), whether older ones remain, the ones that just came. */
const state = { file: '', user: '', events: [], more: false, fresh: new Set() };
/** Names of documents (current ones from the API; deleted ones from what their events said) and of people. */
const fileNames = new Map();
const existing = new Set();
const people = new Map();

const path = (id) => encodeURIComponent(id);
const query = (params) =>
  new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '' && v !== undefined)).toString();

// ---- what an event says ----

/** The document an event names: a link to its history while it exists, its last known name once deleted. */
function doc(fileId, fallback) {
  if (!fileId) return el('span', { class: 'doc', text: fallback ?? 'a document' });
  const name = fileNames.get(fileId) ?? fallback ?? 'a deleted document';
  if (!existing.has(fileId)) return el('span', { class: 'doc gone', title: 'No longer exists', text: name });
  return el('a', { class: 'doc', href: at(`/files/${path(fileId)}`), text: name });
}

const quoted = (text) => el('q', { class: 'reason', text });
/** What a webhook listens for, as the end of a sentence: every event, or the types it named. */
const webhookEvents = (events) =>
  Array.isArray(events) ? [` for ${events.length ? events.join(', ') : 'no events'}`] : [' for every event'];
const named = (text) => el('span', { class: 'doc', text });

const article = (role) => (role === 'editor' || role === 'owner' ? 'an' : 'a');

/** What a link asks or limits, as words: a password, an expiry, secure view. */
function linkTraits(d) {
  return [
    ...(d.password ? ['with a password'] : []),
    ...(typeof d.expiresAt === 'number' ? [`until ${new Date(d.expiresAt).toLocaleDateString()}`] : []),
    ...(d.secureView ? ['secure view'] : []),
  ];
}

/** The sentence after the person's name, as nodes (text only). */
function sentence(e) {
  const d = e.details ?? {};
  const file = () => doc(e.fileId, typeof d.name === 'string' ? d.name : undefined);
  const from = () => doc(typeof d.from === 'string' ? d.from : undefined);
  switch (e.type) {
    case 'file.created':
      if (typeof d.from === 'string')
        return d.fileConversion
          ? ['converted ', from(), ' into ', file()]
          : ['saved a copy of ', from(), ' as ', file()];
      if (d.how === 'upload') return ['uploaded ', file()];
      if (d.how === 'template') return ['created ', file(), ' from a blank template'];
      return ['imported ', file()];
    case 'file.saved': {
      const v = d.version === undefined ? 'a new version' : `version ${d.version}`;
      if (d.autosave) return [`autosaved ${v} of `, file()];
      if (d.exitSave) return [`saved ${v} of `, file(), ' on closing'];
      return [`saved ${v} of `, file()];
    }
    case 'save.rescued':
      return ['had a save of ', file(), ' refused and rescued: ', quoted(REFUSALS[d.reason] ?? d.reason ?? 'refused')];
    case 'file.restored':
      if (d.rescued !== undefined) return ['restored a rescued save of ', file(), ` as version ${d.version}`];
      return [`restored version ${d.from} of `, file(), ` as version ${d.version}`];
    case 'file.renamed':
      return ['renamed ', named(d.from ?? '?'), ' to ', doc(e.fileId, d.to)];
    case 'file.deleted':
      return ['deleted ', el('span', { class: 'doc gone', text: d.name ?? fileNames.get(e.fileId) ?? 'a document' })];
    case 'file.opened':
      if (d.action === 'edit' && !d.readOnly) return ['opened ', file(), ' for editing'];
      return ['opened ', file(), d.action === 'edit' ? ' read-only' : ' to view'];
    case 'file.downloaded':
      if (d.rescued !== undefined) return ['downloaded a rescued save of ', file()];
      return [d.version === undefined ? 'downloaded ' : `downloaded version ${d.version} of `, file()];
    case 'lock.taken':
      return ['took the lock on ', file()];
    case 'lock.changed':
      return ['handed the lock on ', file(), ' to a new editing session'];
    case 'lock.released':
      if (d.automatic) {
        const idle = typeof d.idleMs === 'number' ? ` for ${Math.round(d.idleMs / 60_000)} min` : '';
        return ['released the lock on ', file(), ` automatically: the editor sent no refresh or save${idle}`];
      }
      return ['released the lock on ', file()];
    case 'lock.broken':
      return ['broke the lock on ', file(), ...(d.reason ? [': ', quoted(d.reason)] : [])];
    case 'versions.thinned': {
      const n = typeof d.count === 'number' ? d.count : Array.isArray(d.versions) ? d.versions.length : 0;
      return [`dropped ${n} old autosave${n === 1 ? '' : 's'} from the history of `, file()];
    }
    case 'token.minted': {
      // minted with an API key: the role and the app's own user, by name
      const kind =
        typeof d.role === 'string'
          ? `${d.role === 'editor' ? 'an' : 'a'} ${d.role}'s`
          : d.write === false
            ? 'a read-only'
            : 'an editing';
      const who = typeof d.forName === 'string' ? d.forName : d.for;
      const toWhom = typeof who === 'string' && d.for !== e.user?.id ? [` to ${who}`] : [];
      return [`issued ${kind} access token for `, file(), ...toWhom];
    }
    case 'share.added':
      return [
        'shared ',
        file(),
        ' with ',
        named(d.principalName ?? 'someone'),
        ` as ${article(d.role)} ${d.role ?? 'reader'}`,
        ...(d.secureView ? [' (secure view)'] : []),
      ];
    case 'share.changed':
      return [
        'made ',
        named(d.principalName ?? 'someone'),
        ` ${article(d.role)} ${d.role} of `,
        file(),
        ...(d.was ? [` (was ${article(d.was)} ${d.was})`] : []),
        ...(d.secureView ? [', in secure view'] : []),
      ];
    case 'share.removed':
      return ['stopped sharing ', file(), ' with ', named(d.principalName ?? 'someone')];
    case 'link.created':
      return [
        `made ${article(d.role)} ${d.role} link to `,
        file(),
        ...(d.password || d.expiresAt || d.secureView ? [` (${linkTraits(d).join(', ')})`] : []),
      ];
    case 'link.changed':
      if (d.disabled) return ['disabled a link to ', file()];
      return [
        'changed a link to ',
        file(),
        `: now ${article(d.role)} ${d.role} link`,
        ...(linkTraits(d).length ? [` (${linkTraits(d).join(', ')})`] : []),
      ];
    case 'group.created':
      return ['created the group ', named(d.name ?? '?'), ...(d.source === 'provider' ? [' (from sign-in)'] : [])];
    case 'group.deleted':
      return ['deleted the group ', named(d.name ?? '?')];
    case 'group.member.added':
      return ['added ', named(d.memberName ?? 'someone'), ' to the group ', named(d.name ?? '?')];
    case 'group.member.removed':
      return ['removed ', named(d.memberName ?? 'someone'), ' from the group ', named(d.name ?? '?')];
    case 'user.disabled':
      return ['disabled the account of ', named(d.displayName ?? d.name ?? 'someone')];
    case 'user.enabled':
      return ['enabled the account of ', named(d.displayName ?? d.name ?? 'someone'), ' again'];
    case 'apikey.created':
      return [
        'made the API key ',
        quoted(d.name ?? d.key),
        ...(Array.isArray(d.scopes) ? [` (${d.scopes.join(', ')})`] : []),
      ];
    case 'apikey.revoked':
      return ['revoked the API key ', quoted(d.name ?? d.key)];
    case 'webhook.created':
      return ['registered the webhook ', quoted(d.url ?? d.webhook), ...webhookEvents(d.events)];
    case 'webhook.changed':
      return ['changed the webhook ', quoted(d.url ?? d.webhook), ...webhookEvents(d.events)];
    case 'webhook.deleted':
      return ['removed the webhook ', quoted(d.url ?? d.webhook)];
    default:
      return [e.type, ...(e.fileId ? [' on ', file()] : [])];
  }
}

/** How an event is set apart: changes, locks, things taken away, and mere reading. */
const KINDS = {
  'file.created': 'change',
  'file.saved': 'change',
  'file.restored': 'change',
  'file.renamed': 'change',
  'file.deleted': 'danger',
  'lock.broken': 'danger',
  'save.rescued': 'warning',
  'lock.taken': 'lock',
  'lock.changed': 'lock',
  'lock.released': 'lock',
  'versions.thinned': 'change',
  'apikey.revoked': 'danger',
  'webhook.deleted': 'danger',
  'share.removed': 'danger',
  'group.deleted': 'danger',
  'user.disabled': 'danger',
};

const sep = () => el('span', { class: 'sep', 'aria-hidden': 'true', text: '·' });

function meta(e) {
  const parts = [ago(e.at)];
  const client = describeClient(e.client);
  if (client) parts.push(el('span', { class: 'client', title: e.client, text: client }));
  if (e.address) parts.push(el('span', { class: 'address', text: `from ${describeAddress(e.address)}` }));
  // X-WOPI-Editors names user ids: shown by name where known, and without the person the row is about
  const editors = typeof e.details?.editors === 'string' ? e.details.editors.split(',').map((x) => x.trim()) : [];
  const others = editors.filter((id) => id && id !== e.user?.id).map((id) => people.get(id) ?? id);
  if (others.length) parts.push(el('span', { text: `editing with ${others.join(', ')}` }));
  return parts.flatMap((p, i) => (i === 0 ? [p] : [sep(), p]));
}

function whoOf(e) {
  // an event with no one behind it is Quire's own doing (an idle lock released, old autosaves thinned)
  if (!e.user) return el('strong', { class: 'who', text: 'Quire' });
  return el('a', {
    class: 'who',
    href: at(`/activity?${query({ user: e.user.id })}`),
    title: `Only what ${e.user.name} did`,
    'data-user': e.user.id,
    text: e.user.name,
    onclick: (click) => {
      if (click.metaKey || click.ctrlKey || click.shiftKey) return;
      click.preventDefault();
      applyFilters({ file: state.file, user: e.user.id });
    },
  });
}

function eventItem(e) {
  const kind = KINDS[e.type] ?? 'read';
  return el(
    'li',
    {
      class: `event kind-${kind}${state.fresh.has(e.id) ? ' fresh' : ''}`,
      'data-event': String(e.id),
      'data-type': e.type,
    },
    el('span', {
      class: `avatar ${e.user ? hueOf(e.user.id) : 'hue-none'}`,
      'aria-hidden': 'true',
      text: initials(e.user?.name ?? 'Quire'),
    }),
    el(
      'div',
      { class: 'event-body' },
      el('p', { class: 'event-what' }, whoOf(e), ' ', ...sentence(e)),
      el('p', { class: 'event-meta' }, ...meta(e)),
    ),
  );
}

// ---- the list, by day ----

function dayLabel(at) {
  const day = new Date(at);
  const today = new Date();
  const yesterday = new Date(today);
  yesterday.setDate(today.getDate() - 1);
  if (day.toDateString() === today.toDateString()) return 'Today';
  if (day.toDateString() === yesterday.toDateString()) return 'Yesterday';
  return day.toLocaleDateString(undefined, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    ...(day.getFullYear() !== today.getFullYear() && { year: 'numeric' }),
  });
}

function render() {
  const days = new Map();
  for (const e of state.events) {
    const label = dayLabel(e.at);
    if (!days.has(label)) days.set(label, []);
    days.get(label).push(e);
  }
  container.replaceChildren(
    ...[...days].map(([label, events]) =>
      el(
        'section',
        { class: 'day', 'aria-label': label },
        el('h2', { class: 'day-title', text: label }),
        el('ol', { class: 'events' }, ...events.map(eventItem)),
      ),
    ),
  );
  loading.hidden = true;
  const none = state.events.length === 0;
  empty.hidden = !none;
  moreButton.hidden = !state.more;
  logStart.hidden = state.more || none;
}

// ---- filters: in the address (so a filtered view can be linked and goes back and forth), the selects, the export ----

function readFilters() {
  const params = new URLSearchParams(location.search);
  state.file = params.get('file') ?? '';
  state.user = params.get('user') ?? '';
}

function fillSelect(select, entries, allLabel, current) {
  const sorted = [...entries].sort((a, b) => a[1].localeCompare(b[1]));
  select.replaceChildren(
    el('option', { value: '', text: allLabel }),
    ...sorted.map(([id, name]) => el('option', { value: id, text: name })),
  );
  select.value = current;
}

function showFilters() {
  const files = new Map([...existing].map((id) => [id, fileNames.get(id) ?? id]));
  if (state.file && !files.has(state.file)) {
    files.set(state.file, `${fileNames.get(state.file) ?? 'A document'} (deleted)`);
  }
  fillSelect(fileSelect, files, 'All documents', state.file);
  const who = new Map(people);
  if (state.user && !who.has(state.user)) who.set(state.user, state.user);
  fillSelect(userSelect, who, 'Everyone', state.user);
  clearButton.hidden = !state.file && !state.user;
  exportLink.href = at(`/api/events.jsonl?${query({ file: state.file, user: state.user, limit: 1000 })}`);
  exportLink.title = 'The newest 1,000 events shown here, one JSON object a line';

  const docName = state.file && (fileNames.get(state.file) ?? 'this document');
  const personName = state.user && (people.get(state.user) ?? state.user);
  const lead = document.querySelector('.page-head .lead');
  lead.textContent =
    docName && personName
      ? `What ${personName} did with ${docName}, newest first.`
      : docName
        ? `Everything that happened to ${docName}, newest first.`
        : personName
          ? `Everything ${personName} did, newest first.`
          : 'Who opened, saved, locked, renamed or deleted which document, newest first.';
  document.title = `Activity${docName ? ` – ${docName}` : ''}${personName ? ` – ${personName}` : ''} – Quire`;
  document.getElementById('activity-empty-title').textContent =
    docName || personName ? 'Nothing matches these filters' : 'Nothing has happened yet';
  document.getElementById('activity-empty-text').textContent =
    docName || personName
      ? 'Try another document or person, or clear the filters.'
      : 'Opening, saving, renaming or locking a document shows up here as it happens.';
}

/** Learns names from events: people, and documents (including deleted ones, by what their events said). */
function learn(events) {
  for (const e of events) {
    if (e.user && !people.has(e.user.id)) people.set(e.user.id, e.user.name);
    const d = e.details ?? {};
    const name = e.type === 'file.renamed' ? d.to : d.name;
    if (e.fileId && typeof name === 'string' && !fileNames.has(e.fileId)) fileNames.set(e.fileId, name);
  }
}

const matches = (e) => (!state.file || e.fileId === state.file) && (!state.user || e.user?.id === state.user);

async function loadFiles() {
  const files = await api('GET', at('/api/files'));
  existing.clear();
  for (const f of files) {
    existing.add(f.id);
    fileNames.set(f.id, f.name);
  }
}

async function load() {
  loading.hidden = false;
  container.setAttribute('aria-busy', 'true');
  try {
    const events = await api('GET', at(`/api/events?${query({ file: state.file, user: state.user, limit: PAGE })}`));
    learn(events);
    state.events = events;
    state.more = events.length === PAGE;
    state.fresh.clear();
    showFilters();
    render();
  } finally {
    container.removeAttribute('aria-busy');
  }
}

async function loadMore() {
  const oldest = state.events.at(-1);
  moreButton.disabled = true;
  moreButton.textContent = 'Loading…';
  try {
    const older = await api(
      'GET',
      at(`/api/events?${query({ file: state.file, user: state.user, limit: PAGE, before: oldest?.id })}`),
    );
    learn(older);
    state.events.push(...older.filter((e) => !state.events.some((known) => known.id === e.id)));
    state.more = older.length === PAGE;
    showFilters();
    render();
    say(older.length ? `Loaded ${older.length} older events.` : 'There is nothing older.');
    // when the button goes away with nothing older left, keyboard users carry on from the first event that arrived
    const first = older[0] && container.querySelector(`li[data-event="${older[0].id}"] a`);
    if (!state.more) first?.focus();
  } catch (err) {
    say(`Could not load older events: ${err.message}`, true);
  } finally {
    moreButton.disabled = false;
    moreButton.textContent = 'Load more';
  }
}

async function applyFilters(next, { push = true } = {}) {
  state.file = next.file;
  state.user = next.user;
  if (push) history.pushState(null, '', at(`/activity${query(next) ? `?${query(next)}` : ''}`));
  document.body.dataset.ready = 'false';
  showFilters();
  try {
    await load();
    document.body.dataset.ready = 'true';
  } catch (err) {
    say(`Could not load the activity: ${err.message}`, true);
  }
}

// ---- live: new events that match the filters are added at the top ----

/** Ids of live events being handled: the stream may hand one twice, and handling waits (loadFiles) before it shows. */
const arriving = new Set();

async function onEvent(e) {
  if (arriving.has(e.id) || state.events.some((known) => known.id === e.id)) return;
  arriving.add(e.id);
  try {
    await showLive(e);
  } finally {
    arriving.delete(e.id);
  }
}

async function showLive(e) {
  // older than the oldest shown while older ones remain to load: "Load more" brings it in its place (the stream can
  // hand a new page events it loaded itself, and older ones, when the server's reader was a poll behind)
  const oldest = state.events.at(-1);
  if (state.more && oldest && e.id < oldest.id) return;
  if (e.type === 'file.created' || e.type === 'file.renamed' || e.type === 'file.deleted') {
    await loadFiles().catch(() => {});
  }
  learn([e]);
  if (e.type === 'file.renamed' && typeof e.details?.to === 'string') fileNames.set(e.fileId, e.details.to);
  if (!matches(e)) return;
  state.events.unshift(e);
  state.events.sort((a, b) => b.id - a.id);
  state.fresh.add(e.id);
  showFilters();
  render();
  document.body.dataset.liveEvent = String(e.id);
}

async function start() {
  readFilters();
  keepTimesFresh();
  fileSelect.addEventListener('change', () => applyFilters({ file: fileSelect.value, user: state.user }));
  userSelect.addEventListener('change', () => applyFilters({ file: state.file, user: userSelect.value }));
  clearButton.addEventListener('click', async () => {
    await applyFilters({ file: '', user: '' });
    say('Filters cleared: showing all activity.');
    fileSelect.focus();
  });
  moreButton.addEventListener('click', loadMore);
  window.addEventListener('popstate', () => {
    readFilters();
    applyFilters(state, { push: false });
  });
  try {
    const [me, [newest]] = await Promise.all([
      api('GET', at('/api/me')),
      api('GET', at('/api/events?limit=1')),
      loadFiles(),
    ]);
    people.set(me.id, me.displayName);
    // from the newest event known before the list is read: nothing that happens after it is missed
    followEvents(onEvent, { after: newest?.id ?? 0, onState: showLiveState });
  } catch (err) {
    say(err.message, true);
  }
  await applyFilters(state, { push: false });
}

start();
