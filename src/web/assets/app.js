// Quire's document pages: render the document list and version history from the JSON API and perform every action
// through it. No framework; works from a phone.
import {
  api,
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
    const { users } = await api('GET', '/api/people');
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
    'aria-label': manages ? `Share ${f.name}` : `Who has access to ${f.name}`,
    // after a change the list is drawn afresh: the focus goes to this row's new Share button
    onclick: () =>
      openShareDialog({ id: f.id, name: f.name }, shareButton, async () => {
        await refresh();
        const label = shareButton.getAttribute('aria-label');
        document.querySelector(`#files [aria-label="${CSS.escape(label)}"]`)?.focus();
      }),
  });
  return el(
    'div',
    { class: 'row-actions' },
    open,
    f.role === 'viewer' ? null : el('a', { href: f.urls.view, text: 'View', 'aria-label': `View ${f.name}` }),
    f.secureView ? null : el('a', { href: f.urls.download, text: 'Download', 'aria-label': `Download ${f.name}` }),
    el('a', { href: f.urls.history, text: 'History', 'aria-label': `History of ${f.name}` }),
    el('a', {
      href: `/activity?file=${encodeURIComponent(f.id)}`,
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
              const renamed = await api('POST', `/api/files/${encodeURIComponent(f.id)}/rename`, { name });
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
              await api('DELETE', `/api/files/${encodeURIComponent(f.id)}`);
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
    api('GET', `/api/files?scope=${encodeURIComponent(shown)}`),
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
      const badges = roleBadges(f);
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
    xhr.open('POST', `/api/files?name=${encodeURIComponent(file.name)}`);
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
        const file = await api('POST', '/api/files/new', { kind: button.dataset.new });
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
  const versions = await api('GET', `/api/files/${encodeURIComponent(id)}/versions`);
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
                        `/api/files/${encodeURIComponent(id)}/versions/${v.version}/restore`,
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
  const rescued = await api('GET', `/api/files/${encodeURIComponent(id)}/rescued`);
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

async function refresh() {
  try {
    if (page === 'files') await renderFiles();
    if (page === 'history') await Promise.all([renderVersions(), renderRescued()]);
    document.body.dataset.ready = 'true';
  } catch (err) {
    say(err.message, true);
  }
}

// Live updates: the server streams every event (a save, a lock, a rename … made anywhere); the page redraws when
// one concerns what it shows, at most a few times a second.
let pending;
const redrawFor = (event) => {
  if (page === 'history' && event.fileId !== document.body.dataset.file) return;
  clearTimeout(pending);
  pending = setTimeout(async () => {
    await refresh();
    document.body.dataset.liveEvent = String(event.id);
  }, 250);
};

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
followEvents(redrawFor);
