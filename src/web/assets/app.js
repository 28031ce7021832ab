// Quire's document pages: render the document list and version history from the JSON API and perform every action
// through it. No framework; works from a phone.
import {
  api,
  at,
  cell,
  el,
  followEvents,
  formatSize,
  formatTime,
  REFUSALS,
  say,
  wireDialogCloseButtons,
} from './common.js';
import { openShareDialog } from './share.js';

const page = document.body.dataset.page;

function confirmDialog(text) {
  const dialog = document.getElementById('confirm-dialog');
  document.getElementById('confirm-text').textContent = text;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) =>
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true }),
  );
}

function renameDialog(current) {
  const dialog = document.getElementById('rename-dialog');
  const input = document.getElementById('rename-name');
  input.value = current;
  dialog.returnValue = '';
  dialog.showModal();
  const dot = current.lastIndexOf('.');
  input.setSelectionRange(0, dot > 0 ? dot : current.length);
  return new Promise((resolve) =>
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'save' ? input.value : null), {
      once: true,
    }),
  );
}

// ---- the document list: my documents, the ones shared with me, and (admins) all of them ----
const EMPTY = {
  mine: ['No documents yet', 'Create a blank document above, or drop files here to upload them.'],
  shared: [
    'Nothing shared with you yet',
    'When someone shares a document with you, or with a group you are in, it appears here.',
  ],
  all: ['No documents in Quire yet', 'Documents anyone creates or uploads appear here.'],
};
const ROLE_LABEL = { viewer: 'Viewer', commenter: 'Commenter', editor: 'Editor', owner: 'Owner' };
const mayEdit = (role) => role === 'editor' || role === 'owner';

/** The view shown: mine, shared or all (the server drew the first one from ?view=). */
let view = document.body.dataset.view ?? 'mine';
/** Display names of people, for "Shared by …" (from /api/people, looked up when a view needs them). */
let ownerNames = null;

function showView(next, { push = false } = {}) {
  const tab = document.querySelector(`.views a[data-view="${next}"]`) ?? document.querySelector('.views a');
  view = tab.dataset.view;
  document.body.dataset.view = view;
  for (const a of document.querySelectorAll('.views a')) {
    if (a === tab) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.getElementById('files-lead').textContent = tab.dataset.lead;
  document.getElementById('files-caption').textContent = tab.textContent;
  document.getElementById('mine-tools').hidden = view !== 'mine';
  if (push) history.pushState({ view }, '', tab.getAttribute('href'));
}

async function namesOfOwners() {
  if (!ownerNames) {
    const { users } = await api('GET', at('/api/people'));
    ownerNames = new Map(users.map((u) => [u.id, u.displayName || u.name]));
  }
  return ownerNames;
}

function roleBadges(f) {
  if (f.role === 'owner' && f.via !== 'admin') return [];
  return [
    f.via === 'admin'
      ? el('span', { class: 'badge role role-admin', text: 'Admin' })
      : el('span', { class: `badge role role-${f.role}`, text: ROLE_LABEL[f.role] ?? f.role }),
    f.secureView ? el('span', { class: 'badge secure', text: 'Secure view' }) : null,
  ];
}

/** "A, B and C". */
const listOf = (parts) =>
  parts.length < 2 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;

/**
 * The "Shared" marker of a document one manages: how many people, groups and working links have it, their names
 * (and roles) on hover and for screen readers; it opens the share dialog. Nothing for a document shared with nobody.
 */
function sharedMarker(f, openSharing) {
  const sharing = f.sharing;
  if (!sharing || (sharing.shares.length === 0 && sharing.links === 0)) return null;
  const links = sharing.links === 1 ? 'a link' : sharing.links > 1 ? `${sharing.links} links` : null;
  const who = listOf([...sharing.shares.map((s) => s.name), ...(links ? [`anyone with ${links}`] : [])]);
  const detail = [
    ...sharing.shares.map((s) => `${s.name} (${(ROLE_LABEL[s.role] ?? s.role).toLowerCase()})`),
    ...(links ? [`Anyone with ${links}`] : []),
  ];
  const marker = el(
    'button',
    {
      type: 'button',
      class: 'badge shared-marker',
      'data-opens': 'marker',
      title: `Shared with:\n${detail.join('\n')}`,
      'aria-label': `Shared with ${who}. Manage sharing of ${f.name}`,
      onclick: () => openSharing(marker),
    },
    el('span', { class: 'shared-mark', 'aria-hidden': 'true', text: '⇆' }),
    ` Shared · ${sharing.shares.length + sharing.links}`,
  );
  return marker;
}

/**
 * Opens the share dialog of `f` from `from` (its marker or its Share button); after a change the list is redrawn
 * and the focus goes to the same control of the redrawn row (its Share button when the marker went).
 */
function sharingOf(f) {
  return (from) =>
    openShareDialog({ id: f.id, name: f.name }, from, async () => {
      await refresh();
      const row = document.querySelector(`#files tr[data-file="${CSS.escape(f.id)}"]`);
      (
        row?.querySelector(`[data-opens="${from.dataset.opens}"]`) ?? row?.querySelector('[data-opens="share"]')
      )?.focus();
    });
}

function fileActions(f) {
  const open =
    f.role === 'viewer'
      ? el('a', { href: f.urls.view, class: 'button', text: 'Open', 'aria-label': `Open ${f.name}` })
      : f.role === 'commenter'
        ? el('a', { href: f.urls.edit, class: 'button', text: 'Comment', 'aria-label': `Comment on ${f.name}` })
        : el('a', { href: f.urls.edit, class: 'button', text: 'Edit', 'aria-label': `Edit ${f.name}` });
  const manages = f.role === 'owner';
  const shareButton = el('button', {
    type: 'button',
    class: 'link',
    text: manages ? 'Share' : 'Who has access',
    'data-opens': 'share',
    'aria-label': manages ? `Share ${f.name}` : `Who has access to ${f.name}`,
    onclick: () => sharingOf(f)(shareButton),
  });
  return el(
    'div',
    { class: 'row-actions' },
    open,
    f.role === 'viewer' ? null : el('a', { href: f.urls.view, text: 'View', 'aria-label': `View ${f.name}` }),
    f.secureView ? null : el('a', { href: f.urls.download, text: 'Download', 'aria-label': `Download ${f.name}` }),
    el('a', { href: f.urls.history, text: 'History', 'aria-label': `History of ${f.name}` }),
    el('a', {
      href: at(`/activity?file=${encodeURIComponent(f.id)}`),
      text: 'Activity',
      'aria-label': `Activity of ${f.name}`,
    }),
    shareButton,
    mayEdit(f.role)
      ? el('button', {
          type: 'button',
          class: 'link',
          text: 'Rename',
          'aria-label': `Rename ${f.name}`,
          onclick: async () => {
            const name = await renameDialog(f.name);
            if (!name || name === f.name) return;
            await run(async () => {
              const renamed = await api('POST', at(`/api/files/${encodeURIComponent(f.id)}/rename`), { name });
              return `Renamed to ${renamed.name}.`;
            });
          },
        })
      : null,
    manages
      ? el('button', {
          type: 'button',
          class: 'link danger',
          text: 'Delete',
          'aria-label': `Delete ${f.name}`,
          onclick: async () => {
            if (!(await confirmDialog(`Delete ${f.name}?`))) return;
            await run(async () => {
              await api('DELETE', at(`/api/files/${encodeURIComponent(f.id)}`));
              return `Deleted ${f.name}.`;
            });
          },
        })
      : null,
  );
}

async function renderFiles() {
  const shown = view;
  const table = document.getElementById('files');
  const tbody = table.querySelector('tbody');
  const [files, owners] = await Promise.all([
    api('GET', at(`/api/files?scope=${encodeURIComponent(shown)}`)),
    shown === 'mine' ? null : namesOfOwners(),
  ]);
  if (shown !== view) return; // another view was chosen meanwhile
  const me = document.body.dataset.me;
  const [emptyTitle, emptyText] = EMPTY[shown] ?? EMPTY.mine;
  document.getElementById('files-empty-title').textContent = emptyTitle;
  document.getElementById('files-empty-text').textContent = emptyText;
  document.getElementById('files-empty').hidden = files.length > 0;
  document.getElementById('files-empty').dataset.view = shown;
  table.hidden = files.length === 0;
  tbody.replaceChildren(
    ...files.map((f) => {
      const owner = owners && f.ownerId !== me ? (owners.get(f.ownerId) ?? 'someone no longer here') : null;
      const badges = [...roleBadges(f), sharedMarker(f, sharingOf(f))].filter(Boolean);
      return el(
        'tr',
        { 'data-file': f.id, 'data-name': f.name, 'data-role': f.role },
        el(
          'th',
          { scope: 'row', 'data-label': 'Name' },
          el('a', { href: f.urls.history, text: f.name }),
          badges.length || owner
            ? el(
                'span',
                { class: 'doc-meta' },
                ...badges,
                owner
                  ? el('span', { class: 'owner', text: `${shown === 'shared' ? 'Shared by' : 'Owned by'} ${owner}` })
                  : null,
              )
            : null,
        ),
        cell('Size', formatSize(f.size)),
        cell(
          'Last change',
          el('time', { datetime: f.modifiedAt, text: formatTime(f.modifiedAt) }),
          ` by ${f.modifiedBy.name}`,
        ),
        cell('Status', f.locked ? el('span', { class: 'badge', text: 'Open in an editor' }) : 'Available'),
        cell('Actions', fileActions(f)),
      );
    }),
  );
}

// Performs an action, refreshes what is shown, then reports: the message always describes the page as it now is.
async function run(action) {
  let note;
  let isError = false;
  try {
    note = await action();
  } catch (err) {
    note = err.message;
    isError = true;
  }
  await refresh();
  if (note) say(note, isError);
}

function upload(file) {
  const progress = el('progress', { max: '100', value: '0', 'aria-label': `Uploading ${file.name}` });
  const item = el('li', {}, `${file.name} `, progress);
  document.getElementById('uploads').append(item);
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', at(`/api/files?name=${encodeURIComponent(file.name)}`));
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) progress.value = Math.round((e.loaded / e.total) * 100);
    });
    xhr.addEventListener('load', () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {}
      if (xhr.status === 201) {
        progress.value = 100;
        item.replaceChildren(`Uploaded ${data.name}`);
      } else {
        item.replaceChildren(`${file.name}: ${data?.error || `upload failed (${xhr.status})`}`);
        item.classList.add('error');
      }
      resolve();
    });
    xhr.addEventListener('error', () => {
      item.replaceChildren(`${file.name}: the upload was interrupted`);
      item.classList.add('error');
      resolve();
    });
    xhr.send(file);
  });
}

async function uploadAll(files) {
  for (const file of files) await upload(file);
  await refresh();
}

function setUpFiles() {
  for (const button of document.querySelectorAll('[data-new]')) {
    button.addEventListener('click', () =>
      run(async () => {
        const file = await api('POST', at('/api/files/new'), { kind: button.dataset.new });
        return `Created ${file.name}.`;
      }),
    );
  }
  const input = document.getElementById('file-input');
  input.addEventListener('change', () => uploadAll([...input.files]).then(() => (input.value = '')));
  const zone = document.getElementById('dropzone');
  const over = (on) => zone.classList.toggle('dragover', on);
  // the whole page accepts drops (a drop on the zone bubbles up here once)
  document.body.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (view === 'mine') over(true);
  });
  document.body.addEventListener('dragleave', (e) => {
    if (e.target === document.body || e.target === zone) over(false);
  });
  document.body.addEventListener('drop', (e) => {
    e.preventDefault();
    over(false);
    if (view !== 'mine') return say('Switch to My documents to upload files.', true);
    if (e.dataTransfer?.files.length) uploadAll([...e.dataTransfer.files]);
  });
  // the views switch without a reload; the address follows, so a reload or a shared address shows the same view
  for (const tab of document.querySelectorAll('.views a[data-view]')) {
    tab.addEventListener('click', (e) => {
      if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      if (tab.dataset.view === view) return;
      showView(tab.dataset.view, { push: true });
      say('');
      refresh();
    });
  }
  window.addEventListener('popstate', () => {
    showView(new URLSearchParams(location.search).get('view') ?? 'mine');
    refresh();
  });
  wireDialogCloseButtons();
}

// ---- a document's version history ----
const how = (v) => {
  if (v.source === 'restore') return 'Restored from an earlier version';
  if (v.source === 'import') return 'Uploaded';
  if (v.source === 'put-relative') return v.fileConversion ? 'Converted' : 'Saved as a copy';
  if (v.autosave) return 'Autosave';
  if (v.exitSave) return 'Saved on close';
  return 'Saved';
};

/** On a document's history page: the caller's role, and whether the bytes may be handed over (secure view). */
const myRole = document.body.dataset.role ?? 'owner';
const secure = document.body.dataset.secure === 'true';

async function renderVersions() {
  const id = document.body.dataset.file;
  const tbody = document.querySelector('#versions tbody');
  const versions = await api('GET', at(`/api/files/${encodeURIComponent(id)}/versions`));
  tbody.replaceChildren(
    ...versions.map((v) =>
      el(
        'tr',
        { 'data-version': String(v.version) },
        el(
          'th',
          { scope: 'row', 'data-label': 'Version' },
          `${v.version}`,
          v.current ? el('span', { class: 'badge', text: 'current' }) : null,
        ),
        cell('When', el('time', { datetime: v.createdAt, text: formatTime(v.createdAt) })),
        cell('Who', v.author.name),
        cell('How', how(v)),
        cell('Size', formatSize(v.size)),
        cell(
          'Actions',
          el(
            'div',
            { class: 'row-actions' },
            secure
              ? null
              : el('a', { href: v.download, text: 'Download', 'aria-label': `Download version ${v.version}` }),
            v.current || !mayEdit(myRole)
              ? null
              : el('button', {
                  type: 'button',
                  class: 'link',
                  text: 'Restore',
                  'aria-label': `Restore version ${v.version}`,
                  onclick: () =>
                    run(async () => {
                      const file = await api(
                        'POST',
                        at(`/api/files/${encodeURIComponent(id)}/versions/${v.version}/restore`),
                      );
                      return `Version ${v.version} restored as version ${file.version}.`;
                    }),
                }),
          ),
        ),
      ),
    ),
  );
}

async function renderRescued() {
  const id = document.body.dataset.file;
  const section = document.getElementById('rescued-section');
  // rescued saves are for those who may restore one
  if (!mayEdit(myRole)) return;
  const rescued = await api('GET', at(`/api/files/${encodeURIComponent(id)}/rescued`));
  section.hidden = rescued.length === 0;
  section.querySelector('tbody').replaceChildren(
    ...rescued.map((r) =>
      el(
        'tr',
        { 'data-rescued': String(r.id) },
        el(
          'th',
          { scope: 'row', 'data-label': 'When' },
          el('time', { datetime: r.createdAt, text: formatTime(r.createdAt) }),
        ),
        cell('Who', r.author.name),
        cell(
          'Why it was refused',
          el('span', {
            class: 'reason',
            title: r.reason,
            'data-reason': r.reason,
            text: REFUSALS[r.reason] ?? r.reason,
          }),
        ),
        cell('Size', formatSize(r.size)),
        cell(
          'Actions',
          el(
            'div',
            { class: 'row-actions' },
            secure
              ? null
              : el('a', {
                  href: r.download,
                  text: 'Download',
                  'aria-label': `Download the save rescued ${formatTime(r.createdAt)}`,
                }),
            el('button', {
              type: 'button',
              class: 'link',
              text: 'Restore as newest',
              'aria-label': `Restore the save rescued ${formatTime(r.createdAt)} as the newest version`,
              onclick: () =>
                run(async () => {
                  const file = await api('POST', r.restore);
                  return `The rescued save is now version ${file.version}.`;
                }),
            }),
          ),
        ),
      ),
    ),
  );
}

/**
 * A document's page whose document went away while it was open (its share removed, the person taken out of the
 * group it was shared with, or the document deleted): the page says so instead of showing what is no longer theirs.
 */
function showAccessLost(deleted) {
  if (document.getElementById('access-lost')) return;
  document.getElementById('share-dialog')?.close();
  for (const node of document.querySelectorAll('#file-name ~ :not(dialog)')) node.hidden = true;
  const mine = myRole === 'owner';
  const notice = el(
    'section',
    { id: 'access-lost', class: 'empty access-lost', role: 'alert', 'aria-labelledby': 'access-lost-title' },
    el('span', { class: 'empty-mark', 'aria-hidden': 'true' }),
    el('h2', {
      id: 'access-lost-title',
      text: deleted ? 'This document was deleted' : 'You no longer have access to this document',
    }),
    el('p', {
      text: deleted
        ? 'It is no longer in Quire; its owner or an admin can tell you more.'
        : 'It is no longer shared with you or with a group you are in. Ask its owner if you still need it.',
    }),
    el('a', {
      class: 'button',
      href: at(mine ? '/' : '/?view=shared'),
      text: mine ? 'Back to My documents' : 'Back to Shared with me',
    }),
  );
  document.getElementById('file-name').after(notice);
  document.body.dataset.access = 'lost';
  say('');
}

/** The last live event the page redrew for: what explains a document that went away. */
let lastEvent = null;

async function refresh() {
  try {
    if (page === 'files') await renderFiles();
    if (page === 'history') {
      if (document.body.dataset.access === 'lost') return;
      await Promise.all([renderVersions(), renderRescued()]);
      if (lastEvent?.type.startsWith('share.')) await noticeRoleChange();
    }
    document.body.dataset.ready = 'true';
  } catch (err) {
    if (page === 'history' && err.status === 404) showAccessLost(lastEvent?.type === 'file.deleted');
    else say(err.message, true);
  }
}

/** On a document's page, a share changed: when it was the reader's, the page says what they may do now. */
async function noticeRoleChange() {
  const now = await api('GET', at(`/api/files/${encodeURIComponent(document.body.dataset.file)}`));
  if (now.role === myRole && now.secureView === secure) return;
  const article = now.role === 'editor' || now.role === 'owner' ? 'an' : 'a';
  say(
    `Your access changed: you are now ${article} ${(ROLE_LABEL[now.role] ?? now.role).toLowerCase()}${
      now.secureView ? ', for secure view' : ''
    }. Reload the page to see what you may do.`,
  );
}

// Live updates: the server streams every event (a save, a lock, a rename … made anywhere); the page redraws when
// one concerns what it shows, at most a few times a second.
// A document leaving someone's view reaches them too (its share's removal, their leaving a group), so the list
// drops it and its page says it is gone.
let pending;
const redrawFor = (event) => {
  // a document's page: its own events, and those about the reader (a group they left) that have no document
  if (page === 'history' && event.fileId !== undefined && event.fileId !== document.body.dataset.file) return;
  lastEvent = event;
  clearTimeout(pending);
  pending = setTimeout(async () => {
    await refresh();
    document.body.dataset.liveEvent = String(event.id);
  }, 250);
};

/** Back after an interruption, the page catches up; a stream the server ended (signed out) leads to sign-in. */
let wasLive = false;
function followState(state) {
  if (state === 'live') {
    if (wasLive) refresh();
    wasLive = true;
  } else if (state === 'closed') refresh();
}

if (page === 'files') setUpFiles();
if (page === 'history') {
  const shareButton = document.getElementById('share-open');
  shareButton?.addEventListener('click', () =>
    openShareDialog(
      { id: document.body.dataset.file, name: document.getElementById('file-name').textContent },
      shareButton,
    ),
  );
}
refresh();
followEvents(redrawFor, { onState: followState });
