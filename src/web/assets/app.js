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

// ---- the document list ----
async function renderFiles() {
  const tbody = document.querySelector('#files tbody');
  const files = await api('GET', '/api/files');
  tbody.replaceChildren(
    ...(files.length === 0
      ? [el('tr', {}, el('td', { colspan: '5', text: 'No documents yet: create one or upload a file.' }))]
      : files.map((f) =>
          el(
            'tr',
            { 'data-file': f.id, 'data-name': f.name },
            el('th', { scope: 'row', 'data-label': 'Name' }, el('a', { href: f.urls.history, text: f.name })),
            cell('Size', formatSize(f.size)),
            cell(
              'Last change',
              el('time', { datetime: f.modifiedAt, text: formatTime(f.modifiedAt) }),
              ` by ${f.modifiedBy.name}`,
            ),
            cell('Status', f.locked ? el('span', { class: 'badge', text: 'Open in an editor' }) : 'Available'),
            cell(
              'Actions',
              el(
                'div',
                { class: 'row-actions' },
                el('a', { href: f.urls.edit, class: 'button', text: 'Edit', 'aria-label': `Edit ${f.name}` }),
                el('a', { href: f.urls.view, text: 'View', 'aria-label': `View ${f.name}` }),
                el('a', { href: f.urls.download, text: 'Download', 'aria-label': `Download ${f.name}` }),
                el('a', { href: f.urls.history, text: 'History', 'aria-label': `History of ${f.name}` }),
                el('a', {
                  href: `/activity?file=${encodeURIComponent(f.id)}`,
                  text: 'Activity',
                  'aria-label': `Activity of ${f.name}`,
                }),
                el('button', {
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
                }),
                el('button', {
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
                }),
              ),
            ),
          ),
        )),
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
    over(true);
  });
  document.body.addEventListener('dragleave', (e) => {
    if (e.target === document.body || e.target === zone) over(false);
  });
  document.body.addEventListener('drop', (e) => {
    e.preventDefault();
    over(false);
    if (e.dataTransfer?.files.length) uploadAll([...e.dataTransfer.files]);
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
            el('a', { href: v.download, text: 'Download', 'aria-label': `Download version ${v.version}` }),
            v.current
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
            el('a', {
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
refresh();
followEvents(redrawFor);
