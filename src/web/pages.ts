import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { API_SCOPES, SCOPE_NOTES } from '../access/api-keys.ts';
import { atLeast, type Role } from '../access/roles.ts';
import { WEBHOOK_EVENTS } from '../webhooks/vocabulary.ts';
import type { WopiHost } from '../wopi/context.ts';
import { currentUser, requireUser, type SessionOptions } from './session.ts';
import { escapeHtml, renderDocument, sendPage, sendProblem } from './shell.ts';

/**
 * The app's sections, in the header of every page; every signed-in user may use each (they see what is theirs),
 * except People & groups, which only admins are shown (and only admins may open).
 */
const SECTIONS = [
  { page: 'files', href: '/', label: 'Documents', adminOnly: false },
  { page: 'locks', href: '/locks', label: 'Editing sessions', adminOnly: false },
  { page: 'activity', href: '/activity', label: 'Activity', adminOnly: false },
  // (trusted HTML: on a phone the header says only "People"; screen readers still hear all of it)
  { page: 'admin', href: '/admin', label: 'People<span class="wide-only"> &amp; groups</span>', adminOnly: true },
] as const;

/** A page of the app; its script fills it from the JSON API (the pages do everything through that API). */
function sendAppPage(
  reply: FastifyReply,
  input: {
    title: string;
    user: string;
    /** Whether the signed-in user is an admin: the header then links People & groups. */
    isAdmin: boolean;
    page: string;
    /** The section it belongs to (its page, or its parent's: a document's history is under Documents). */
    section: (typeof SECTIONS)[number]['page'];
    /** Trusted HTML, escaped by whoever built it. */
    main: string;
    script?: string;
    data?: Record<string, string>;
  },
) {
  const data = Object.entries({ page: input.page, ...input.data }).map(([k, v]) => [`data-${k}`, v]);
  const nav = SECTIONS.filter((s) => input.isAdmin || !s.adminOnly)
    .map((s) => {
      const current =
        s.page !== input.section ? '' : s.page === input.page ? ' aria-current="page"' : ' aria-current="true"';
      return `<a href="${s.href}"${current}>${s.label}</a>`;
    })
    .join('');
  const html = renderDocument({
    title: input.title,
    head: `<script type="module" src="/static/${input.script ?? 'app.js'}"></script>`,
    bodyAttributes: Object.fromEntries(data),
    body: `<a class="skip" href="#main">Skip to content</a>
<header class="bar">
  <a class="brand" href="/">Quire</a>
  <nav class="sections" aria-label="Quire">${nav}</nav>
  <span class="who"><span class="who-label">Signed in as </span><strong>${escapeHtml(input.user)}</strong></span>
  <form method="post" action="/logout"><button type="submit" class="link">Sign out</button></form>
</header>
<main id="main">
<p id="message" role="status" aria-live="polite"></p>
${input.main}
</main>`,
  });
  return sendPage(reply, { kind: 'app' }, html);
}

/** The admin section's pages, in the navigation under their heading (only admins see any of them). */
const ADMIN_PAGES = [
  { page: 'admin', href: '/admin', label: 'People &amp; groups' },
  { page: 'api-keys', href: '/admin/api-keys', label: 'API keys' },
  { page: 'webhooks', href: '/admin/webhooks', label: 'Webhooks' },
] as const;

/** The admin section's navigation, `current` marked. Trusted HTML. */
const adminNav = (current: (typeof ADMIN_PAGES)[number]['page']) =>
  `<nav class="views" aria-label="Administration">${ADMIN_PAGES.map(
    (p) => `<a href="${p.href}"${p.page === current ? ' aria-current="page"' : ''}>${p.label}</a>`,
  ).join('')}</nav>`;

/** The "Live" badge of a page that follows the event stream; common.js keeps it true. */
const LIVE_BADGE =
  '<p id="live" class="live" data-state="connecting" title="Connecting to live updates"><span class="dot" aria-hidden="true"></span><span>Connecting…</span></p>';

/** The document list's views: what one owns, what others shared, and (admins) every document. */
const DOCUMENT_VIEWS = [
  {
    view: 'mine',
    label: 'My documents',
    lead: 'Documents you own: create, upload, open and share them.',
    adminOnly: false,
  },
  {
    view: 'shared',
    label: 'Shared with me',
    lead: 'Documents other people shared with you, or with a group you are in.',
    adminOnly: false,
  },
  {
    view: 'all',
    label: 'All documents',
    lead: 'Every document in Quire. As an admin, you can manage each of them.',
    adminOnly: true,
  },
] as const;

const ROLE_LABELS: Record<Role, string> = {
  viewer: 'Viewer',
  commenter: 'Commenter',
  editor: 'Editor',
  owner: 'Owner',
};
const ROLE_NOTES: Record<Role, string> = {
  viewer: 'You can view this document.',
  commenter: 'You can view and comment on this document.',
  editor: 'You can edit and rename this document.',
  owner: '',
};

/** The share dialog, on the document list and a document's history page; share.js fills it from the API. */
const SHARE_DIALOG = `<dialog id="share-dialog" class="share-dialog" aria-labelledby="share-title" aria-describedby="share-sub">
  <div class="share-head">
    <div class="share-heading">
      <h2 id="share-title">Share</h2>
      <p id="share-sub" class="share-sub"></p>
    </div>
    <button type="button" class="icon-button" data-close aria-label="Close">×</button>
  </div>
  <section id="share-add-section" class="share-section" aria-labelledby="share-add-title">
    <h3 id="share-add-title">Add people or groups</h3>
    <form id="share-add" class="share-form" novalidate>
      <div class="share-grid">
        <div class="field grow">
          <label for="share-who">Person or group</label>
          <select id="share-who" name="who" required><option value="">Choose…</option></select>
        </div>
        <div class="field">
          <label for="share-role">Role</label>
          <select id="share-role" name="role">
            <option value="viewer">Viewer</option>
            <option value="commenter">Commenter</option>
            <option value="editor" selected>Editor</option>
          </select>
        </div>
      </div>
      <div class="check">
        <input type="checkbox" id="share-secure" name="secure" aria-describedby="share-secure-hint">
        <label for="share-secure">Secure view</label>
        <span id="share-secure-hint" class="hint">No download, print or copy; a watermark on every page.</span>
      </div>
      <div class="field watermark" id="share-watermark-field" hidden>
        <label for="share-watermark">Watermark</label>
        <input id="share-watermark" name="watermark" value="{name} · {date}" maxlength="200" autocomplete="off" aria-describedby="share-watermark-hint">
        <span id="share-watermark-hint" class="hint">{name}, {user}, {email} and {date} are filled in for each person.</span>
      </div>
      <div class="form-actions"><button type="submit" id="share-add-button">Share</button></div>
    </form>
  </section>
  <section class="share-section" aria-labelledby="share-access-title">
    <h3 id="share-access-title">Who has access</h3>
    <p id="share-you" class="share-you" hidden></p>
    <ul id="share-list" class="share-list" aria-labelledby="share-access-title"><li class="muted">Loading…</li></ul>
  </section>
  <section id="share-links-section" class="share-section" aria-labelledby="share-links-title">
    <h3 id="share-links-title">Links</h3>
    <p class="hint share-links-hint">Anyone with a link can open the document with its role, without an account.</p>
    <ul id="share-links" class="share-links" aria-labelledby="share-links-title"></ul>
    <details id="share-link-new" class="share-link-new">
      <summary>Create a link</summary>
      <form id="share-link-form" class="share-form" novalidate>
        <div class="share-grid">
          <div class="field">
            <label for="link-role">Link role</label>
            <select id="link-role" name="role">
              <option value="viewer" selected>Viewer</option>
              <option value="commenter">Commenter</option>
              <option value="editor">Editor</option>
            </select>
          </div>
          <div class="field">
            <label for="link-expires">Expires <span class="hint inline">(optional)</span></label>
            <input type="date" id="link-expires" name="expires">
          </div>
          <div class="field grow">
            <label for="link-password">Password <span class="hint inline">(optional)</span></label>
            <input type="password" id="link-password" name="password" autocomplete="new-password" minlength="4">
          </div>
        </div>
        <div class="check">
          <input type="checkbox" id="link-secure" name="secure" aria-describedby="link-secure-hint">
          <label for="link-secure">Secure view</label>
          <span id="link-secure-hint" class="hint">No download, print or copy; a watermark with the guest's name.</span>
        </div>
        <div class="field watermark" id="link-watermark-field" hidden>
          <label for="link-watermark">Watermark</label>
          <input id="link-watermark" name="watermark" value="{name} · {date}" maxlength="200" autocomplete="off">
        </div>
        <div class="form-actions"><button type="submit" id="link-create">Create link</button></div>
      </form>
    </details>
  </section>
  <div class="share-foot">
    <p id="share-status" class="share-status" role="status" aria-live="polite"></p>
    <button type="button" class="secondary" data-close>Done</button>
  </div>
</dialog>`;

/** Quire's own pages: the document list, a document's version history, the editing sessions and the activity log. */
export function registerPages(app: FastifyInstance, host: WopiHost, sessions: SessionOptions): void {
  app.get<{ Querystring: { view?: string } }>('/', { preHandler: requireUser(sessions) }, async (request, reply) => {
    const user = await currentUser(request, sessions);
    const isAdmin = user?.isAdmin === true;
    const views = DOCUMENT_VIEWS.filter((v) => isAdmin || !v.adminOnly);
    const view = views.find((v) => v.view === request.query.view) ?? DOCUMENT_VIEWS[0];
    const tabs = views
      .map(
        (v) =>
          `<a href="/?view=${v.view}" data-view="${v.view}" data-lead="${escapeHtml(v.lead)}"${
            v === view ? ' aria-current="page"' : ''
          }>${v.label}</a>`,
      )
      .join('');
    return sendAppPage(reply, {
      title: 'Documents – Quire',
      user: user?.displayName ?? '',
      isAdmin,
      page: 'files',
      section: 'files',
      data: { view: view.view, me: user?.id ?? '' },
      main: `<div class="page-head">
  <div>
    <h1 id="files-title">Documents</h1>
    <p class="lead" id="files-lead">${view.lead}</p>
  </div>
</div>
<nav class="views" aria-label="Which documents">${tabs}</nav>
<div id="mine-tools"${view.view === 'mine' ? '' : ' hidden'}>
<div class="actions" role="group" aria-label="Create">
  <button type="button" data-new="document">New document</button>
  <button type="button" data-new="spreadsheet">New spreadsheet</button>
  <button type="button" data-new="presentation">New presentation</button>
</div>
<section id="dropzone" class="dropzone" aria-labelledby="upload-title">
  <h2 id="upload-title">Upload</h2>
  <p>Drop files here, or <label class="button">choose files<input id="file-input" type="file" multiple class="visually-hidden"></label></p>
  <ul id="uploads" aria-live="polite"></ul>
</section>
</div>
<table id="files" class="files">
  <caption class="visually-hidden" id="files-caption">${view.label}</caption>
  <thead><tr><th scope="col">Name</th><th scope="col">Size</th><th scope="col">Last change</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead>
  <tbody><tr><td colspan="5">Loading…</td></tr></tbody>
</table>
<section id="files-empty" class="empty" aria-labelledby="files-empty-title" hidden>
  <span class="empty-mark" aria-hidden="true"></span>
  <h2 id="files-empty-title"></h2>
  <p id="files-empty-text"></p>
</section>
<dialog id="rename-dialog" aria-labelledby="rename-title">
  <form method="dialog" id="rename-form" class="dialog-form">
    <h2 id="rename-title">Rename</h2>
    <label for="rename-name">New name</label>
    <input id="rename-name" name="name" required autocomplete="off">
    <div class="actions"><button type="submit" value="save">Rename</button><button type="button" value="cancel" data-close>Cancel</button></div>
  </form>
</dialog>
<dialog id="confirm-dialog" aria-labelledby="confirm-title">
  <form method="dialog" class="dialog-form">
    <h2 id="confirm-title">Are you sure?</h2>
    <p id="confirm-text"></p>
    <div class="actions"><button type="submit" value="yes" class="danger">Delete</button><button type="submit" value="no">Cancel</button></div>
  </form>
</dialog>
${SHARE_DIALOG}`,
    });
  });

  app.get<{ Params: { id: string } }>('/files/:id', { preHandler: requireUser(sessions) }, async (request, reply) => {
    const user = await currentUser(request, sessions);
    const file = await host.storage.catalog.getFile(request.params.id);
    // a document one may not see does not exist for them (as in the API)
    const access = file && user ? await host.access.accessTo({ kind: 'user', user }, file) : null;
    if (!file || !access) {
      return sendProblem(reply, 404, 'No such document', 'It may have been deleted or renamed.');
    }
    const id = encodeURIComponent(file.id);
    const name = escapeHtml(file.name);
    const manages = access.role === 'owner';
    const edits = atLeast(access.role, 'editor');
    const open =
      access.role === 'viewer'
        ? `<a class="button" href="/files/${id}/open?action=view">Open</a>`
        : `<a class="button" href="/files/${id}/open?action=edit">${edits ? 'Open in editor' : 'Open to comment'}</a>`;
    const roleNote = manages
      ? ''
      : `<p class="lead role-note">${
          access.secureView ? '<span class="badge role secure">Secure view</span> ' : ''
        }<span class="badge role role-${access.role}">${ROLE_LABELS[access.role]}</span> ${ROLE_NOTES[access.role]}${
          access.secureView ? ' It cannot be downloaded, printed or copied.' : ''
        }</p>`;
    return sendAppPage(reply, {
      title: `${file.name} – history – Quire`,
      user: user?.displayName ?? '',
      isAdmin: user?.isAdmin === true,
      page: 'history',
      section: 'files',
      data: { file: file.id, role: access.role, secure: access.secureView ? 'true' : 'false' },
      main: `<p><a href="/${file.ownerId === user?.id ? '' : '?view=shared'}">← All documents</a></p>
<h1 id="file-name">${name}</h1>
${roleNote}
<div class="actions">
  ${open}
  ${access.secureView ? '' : `<a class="button" href="/api/files/${id}/content">Download</a>`}
  <button type="button" class="secondary" id="share-open" data-share-name="${name}">${manages ? 'Share' : 'Who has access'}</button>
  <a class="button secondary" href="/activity?file=${id}" aria-label="Activity of ${name}">Activity</a>
</div>
<h2>Version history</h2>
<table id="versions" class="files">
  <caption class="visually-hidden">Versions of ${escapeHtml(file.name)}, newest first</caption>
  <thead><tr><th scope="col">Version</th><th scope="col">When</th><th scope="col">Who</th><th scope="col">How</th><th scope="col">Size</th><th scope="col">Actions</th></tr></thead>
  <tbody><tr><td colspan="6">Loading…</td></tr></tbody>
</table>
<section id="rescued-section" class="rescued" aria-labelledby="rescued-title" hidden>
  <h2 id="rescued-title">Rescued saves</h2>
  <p class="hint">Saves an editor sent that could not become a version (someone else held the document, or it had
  changed meanwhile). Quire kept them: download one, or make it the newest version.</p>
  <table id="rescued" class="files">
    <caption class="visually-hidden">Rescued saves of this document, newest first</caption>
    <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Why it was refused</th><th scope="col">Size</th><th scope="col">Actions</th></tr></thead>
    <tbody></tbody>
  </table>
</section>
${SHARE_DIALOG}`,
    });
  });
  app.get('/locks', { preHandler: requireUser(sessions) }, async (request, reply) => {
    const user = await currentUser(request, sessions);
    return sendAppPage(reply, {
      title: 'Editing sessions – Quire',
      user: user?.displayName ?? '',
      isAdmin: user?.isAdmin === true,
      page: 'locks',
      section: 'locks',
      script: 'locks.js',
      main: `<div class="page-head">
  <div>
    <h1 id="locks-title">Editing sessions</h1>
    <p class="lead" id="locks-scope">Documents open in an editor right now.</p>
  </div>
  ${LIVE_BADGE}
</div>
<p class="loading" id="locks-loading">Loading…</p>
<ul id="sessions" class="sessions" aria-labelledby="locks-title" hidden></ul>
<section id="sessions-empty" class="empty" aria-labelledby="sessions-empty-title" hidden>
  <span class="empty-mark" aria-hidden="true"></span>
  <h2 id="sessions-empty-title" tabindex="-1">No one is editing right now</h2>
  <p id="sessions-empty-text">When someone opens a document in an editor, it appears here, with who has it and since when.</p>
  <p><a href="/">Go to the documents</a> · <a href="/activity">See recent activity</a></p>
</section>
<dialog id="break-dialog" aria-labelledby="break-title" aria-describedby="break-text">
  <form id="break-form" method="dialog" class="dialog-form" novalidate>
    <h2 id="break-title">Break the lock?</h2>
    <p id="break-text"></p>
    <label for="break-reason">Why? <span class="hint">Required; kept in the activity log.</span></label>
    <textarea id="break-reason" name="reason" required maxlength="500" rows="3" autocomplete="off"
      aria-describedby="break-error" placeholder="e.g. Ann's laptop crashed and the document is stuck"></textarea>
    <p id="break-error" class="field-error" role="alert"></p>
    <div class="actions dialog-actions">
      <button type="submit" class="danger" id="break-confirm">Break lock</button>
      <button type="button" class="secondary" data-close>Cancel</button>
    </div>
  </form>
</dialog>`,
    });
  });

  app.get('/activity', { preHandler: requireUser(sessions) }, async (request, reply) => {
    const user = await currentUser(request, sessions);
    return sendAppPage(reply, {
      title: 'Activity – Quire',
      user: user?.displayName ?? '',
      isAdmin: user?.isAdmin === true,
      page: 'activity',
      section: 'activity',
      script: 'activity.js',
      main: `<div class="page-head">
  <div>
    <h1 id="activity-title">Activity</h1>
    <p class="lead">Who opened, saved, locked, renamed or deleted which document, newest first.</p>
  </div>
  ${LIVE_BADGE}
</div>
<form id="filters" class="filters" role="search" aria-label="Filter the activity" method="get" action="/activity">
  <div class="field">
    <label for="filter-file">Document</label>
    <select id="filter-file" name="file"><option value="">All documents</option></select>
  </div>
  <div class="field">
    <label for="filter-user">Person</label>
    <select id="filter-user" name="user"><option value="">Everyone</option></select>
  </div>
  <button type="button" id="filter-clear" class="secondary" hidden>Clear filters</button>
  <a id="export" class="button secondary export" href="/api/events.jsonl?limit=1000" download>Export (JSON lines)</a>
</form>
<p class="loading" id="activity-loading">Loading…</p>
<div id="activity" class="activity" aria-labelledby="activity-title"></div>
<section id="activity-empty" class="empty" aria-labelledby="activity-empty-title" hidden>
  <span class="empty-mark" aria-hidden="true"></span>
  <h2 id="activity-empty-title">Nothing has happened yet</h2>
  <p id="activity-empty-text">Opening, saving, renaming or locking a document shows up here as it happens.</p>
</section>
<div class="more">
  <button type="button" id="load-more" class="secondary" hidden>Load more</button>
  <p id="log-start" class="hint" hidden>That is everything: the log starts here.</p>
</div>`,
    });
  });

  /** People & groups (admins): accounts, admin rights, disabling, and the groups documents are shared with. */
  const adminPage = async (request: FastifyRequest, reply: FastifyReply) => {
    const user = await currentUser(request, sessions);
    if (!user?.isAdmin) {
      return sendProblem(
        reply,
        403,
        'Admins only',
        "People and groups are managed by Quire's admins. Ask one of them if an account or a group needs changing.",
      );
    }
    return sendAppPage(reply, {
      title: 'People & groups – Quire',
      user: user.displayName,
      isAdmin: true,
      page: 'admin',
      section: 'admin',
      script: 'admin.js',
      data: { me: user.id },
      main: `<div class="page-head">
  <div>
    <h1 id="admin-title">People &amp; groups</h1>
    <p class="lead">Who may sign in, who administers Quire, and the groups documents can be shared with.</p>
  </div>
</div>
${adminNav('admin')}
<section id="people" class="admin-section" aria-labelledby="people-title">
  <div class="section-head">
    <h2 id="people-title">People</h2>
    <span id="people-count" class="count-pill" hidden></span>
  </div>
  <details id="person-new" class="add-panel">
    <summary>Add a person</summary>
    <form id="person-form" class="admin-form" novalidate>
      <div class="share-grid">
        <div class="field">
          <label for="person-name">Sign-in name</label>
          <input id="person-name" name="name" required autocomplete="off" autocapitalize="none" spellcheck="false" aria-describedby="person-name-hint">
          <span id="person-name-hint" class="hint">What they type to sign in, e.g. bob.</span>
        </div>
        <div class="field">
          <label for="person-display">Display name</label>
          <input id="person-display" name="displayName" autocomplete="off" aria-describedby="person-display-hint">
          <span id="person-display-hint" class="hint">Shown to others, e.g. Bob Builder.</span>
        </div>
        <div class="field">
          <label for="person-password">Password</label>
          <input id="person-password" name="password" type="password" autocomplete="new-password" aria-describedby="person-password-hint">
          <span id="person-password-hint" class="hint">Leave empty for single sign-on only.</span>
        </div>
      </div>
      <div class="check">
        <input type="checkbox" id="person-admin" name="isAdmin">
        <label for="person-admin">Admin</label>
        <span class="hint">Sees and manages every document, person and group.</span>
      </div>
      <p id="person-error" class="field-error" role="alert"></p>
      <div class="form-actions"><button type="submit" id="person-add">Add person</button></div>
    </form>
  </details>
  <p class="loading" id="people-loading">Loading…</p>
  <ul id="people-list" class="admin-list" aria-labelledby="people-title"></ul>
</section>
<section id="groups" class="admin-section" aria-labelledby="groups-title">
  <div class="section-head">
    <h2 id="groups-title">Groups</h2>
    <span id="groups-count" class="count-pill" hidden></span>
  </div>
  <form id="group-form" class="inline-form" novalidate>
    <div class="field grow">
      <label for="group-name">New group</label>
      <input id="group-name" name="name" required maxlength="64" autocomplete="off" placeholder="e.g. Finance">
    </div>
    <button type="submit" id="group-create">Create group</button>
  </form>
  <p class="loading" id="groups-loading">Loading…</p>
  <ul id="group-list" class="group-list" aria-labelledby="groups-title"></ul>
  <section id="groups-empty" class="empty" aria-labelledby="groups-empty-title" hidden>
    <span class="empty-mark" aria-hidden="true"></span>
    <h3 id="groups-empty-title">No groups yet</h3>
    <p>Make a group, add people to it, then share documents with the whole group at once.</p>
  </section>
</section>
<dialog id="admin-confirm" aria-labelledby="admin-confirm-title" aria-describedby="admin-confirm-text">
  <form method="dialog" class="dialog-form">
    <h2 id="admin-confirm-title">Are you sure?</h2>
    <p id="admin-confirm-text"></p>
    <div class="actions dialog-actions">
      <button type="submit" value="yes" class="danger" id="admin-confirm-yes">Confirm</button>
      <button type="submit" value="no" class="secondary">Cancel</button>
    </div>
  </form>
</dialog>`,
    });
  };
  /** API keys (admins): the keys other apps drive Quire with; a new key is shown once, with a copy button. */
  app.get('/admin/api-keys', { preHandler: requireUser(sessions) }, async (request, reply) => {
    const user = await currentUser(request, sessions);
    if (!user?.isAdmin) {
      return sendProblem(reply, 403, 'Admins only', "API keys are managed by Quire's admins.");
    }
    const scopes = API_SCOPES.map(
      (scope, i) => `<div class="check scope-check">
        <input type="checkbox" id="key-scope-${i}" name="scopes" value="${scope}" aria-describedby="key-scope-${i}-hint"${
          scope === 'files:read' ? ' checked' : ''
        }>
        <label for="key-scope-${i}"><code>${scope}</code></label>
        <span id="key-scope-${i}-hint" class="hint">${escapeHtml(SCOPE_NOTES[scope])}</span>
      </div>`,
    ).join('\n');
    return sendAppPage(reply, {
      title: 'API keys – Quire',
      user: user.displayName,
      isAdmin: true,
      page: 'api-keys',
      section: 'admin',
      script: 'api-keys.js',
      main: `<div class="page-head">
  <div>
    <h1 id="keys-title">API keys</h1>
    <p class="lead">Keys let another app use Quire over HTTP: import documents, open them for its own users, follow changes. Each key does only what its scopes allow.</p>
  </div>
</div>
${adminNav('api-keys')}
<section id="key-new-section" class="admin-section" aria-labelledby="key-new-title">
  <details id="key-new" class="add-panel">
    <summary id="key-new-title">Create a key</summary>
    <form id="key-form" class="admin-form" novalidate>
      <div class="share-grid">
        <div class="field">
          <label for="key-name">Name</label>
          <input id="key-name" name="name" required maxlength="100" autocomplete="off" aria-describedby="key-name-hint">
          <span id="key-name-hint" class="hint">Which app uses it, e.g. Case system.</span>
        </div>
        <div class="field">
          <label for="key-expiry">Expires</label>
          <select id="key-expiry" name="expiry">
            <option value="">Never</option>
            <option value="30">In 30 days</option>
            <option value="90" selected>In 90 days</option>
            <option value="365">In a year</option>
          </select>
        </div>
      </div>
      <fieldset class="scopes" aria-describedby="key-scopes-hint">
        <legend>Scopes</legend>
        <span id="key-scopes-hint" class="hint">Give a key only what its app needs.</span>
        ${scopes}
      </fieldset>
      <p id="key-error" class="field-error" role="alert"></p>
      <div class="form-actions"><button type="submit" id="key-create">Create key</button></div>
    </form>
  </details>
  <section id="key-reveal" class="key-reveal" aria-labelledby="key-reveal-title" hidden tabindex="-1">
    <h2 id="key-reveal-title">Copy the new key now</h2>
    <p>This is the only time Quire shows it: only a hash is kept. Store it where its app reads secrets; the app sends it in the header <code>Authorization: Bearer</code> followed by the key.</p>
    <div class="key-copy">
      <label for="key-value" class="visually-hidden">The new API key</label>
      <input id="key-value" readonly spellcheck="false" autocomplete="off">
      <button type="button" id="key-copy">Copy</button>
    </div>
    <div class="form-actions"><button type="button" id="key-done" class="secondary">Done, I have stored it</button></div>
  </section>
</section>
<section id="keys" class="admin-section" aria-labelledby="keys-list-title">
  <div class="section-head">
    <h2 id="keys-list-title">Keys</h2>
    <span id="keys-count" class="count-pill" hidden></span>
  </div>
  <p class="loading" id="keys-loading">Loading…</p>
  <ul id="key-list" class="admin-list" aria-labelledby="keys-list-title" hidden></ul>
  <section id="keys-empty" class="empty" aria-labelledby="keys-empty-title" hidden>
    <span class="empty-mark" aria-hidden="true"></span>
    <h3 id="keys-empty-title">No API keys yet</h3>
    <p>Create one for each app that should use Quire. You can revoke a key at any time; its app loses access within a second.</p>
  </section>
</section>
<dialog id="key-confirm" aria-labelledby="key-confirm-title" aria-describedby="key-confirm-text">
  <form method="dialog" class="dialog-form">
    <h2 id="key-confirm-title">Revoke this key?</h2>
    <p id="key-confirm-text"></p>
    <div class="actions dialog-actions">
      <button type="submit" value="yes" class="danger" id="key-confirm-yes">Revoke key</button>
      <button type="submit" value="no" class="secondary">Cancel</button>
    </div>
  </form>
</dialog>`,
    });
  });
  /** Webhooks (admins): receivers other apps run, each event type they hear of, and the delivery log. */
  app.get('/admin/webhooks', { preHandler: requireUser(sessions) }, async (request, reply) => {
    const user = await currentUser(request, sessions);
    if (!user?.isAdmin) {
      return sendProblem(reply, 403, 'Admins only', "Webhooks are managed by Quire's admins.");
    }
    const types = Object.entries(WEBHOOK_EVENTS)
      .map(
        ([type, { about }], i) => `<div class="check scope-check">
        <input type="checkbox" id="hook-type-${i}" name="events" value="${type}" aria-describedby="hook-type-${i}-hint">
        <label for="hook-type-${i}"><code>${type}</code></label>
        <span id="hook-type-${i}-hint" class="hint">${escapeHtml(about)}</span>
      </div>`,
      )
      .join('\n');
    return sendAppPage(reply, {
      title: 'Webhooks – Quire',
      user: user.displayName,
      isAdmin: true,
      page: 'webhooks',
      section: 'admin',
      script: 'webhooks.js',
      main: `<div class="page-head">
  <div>
    <h1 id="hooks-title">Webhooks</h1>
    <p class="lead">Quire tells another app what happens (saves, locks, renames, deletions) by POSTing signed JSON to its URL, and keeps trying until the app answers.</p>
  </div>
</div>
${adminNav('webhooks')}
<section id="hook-new-section" class="admin-section" aria-labelledby="hook-new-title">
  <details id="hook-new" class="add-panel">
    <summary id="hook-new-title">Add a webhook</summary>
    <form id="hook-form" class="admin-form" novalidate>
      <div class="share-grid">
        <div class="field">
          <label for="hook-url">URL</label>
          <input id="hook-url" name="url" type="url" required maxlength="2048" autocomplete="off" spellcheck="false" placeholder="https://app.example.com/quire-events" aria-describedby="hook-url-hint">
          <span id="hook-url-hint" class="hint">An http or https address of the receiving app.</span>
        </div>
        <div class="field">
          <label for="hook-description">Description</label>
          <input id="hook-description" name="description" maxlength="200" autocomplete="off" aria-describedby="hook-description-hint">
          <span id="hook-description-hint" class="hint">Optional: which app this is.</span>
        </div>
      </div>
      <fieldset class="scopes" aria-describedby="hook-events-hint">
        <legend>Events</legend>
        <span id="hook-events-hint" class="hint">Leave all unchecked to receive every event, including types added later.</span>
        ${types}
      </fieldset>
      <p id="hook-error" class="field-error" role="alert"></p>
      <div class="form-actions"><button type="submit" id="hook-create">Add webhook</button></div>
    </form>
  </details>
  <section id="hook-reveal" class="key-reveal" aria-labelledby="hook-reveal-title" hidden tabindex="-1">
    <h2 id="hook-reveal-title">Copy the signing secret now</h2>
    <p>The receiving app checks each delivery with it: the <code>Quire-Webhook-Signature</code> header is <code>v1=</code> and the HMAC-SHA256 of the timestamp, a dot and the body. Quire shows it only this once.</p>
    <div class="key-copy">
      <label for="hook-secret" class="visually-hidden">The webhook's signing secret</label>
      <input id="hook-secret" readonly spellcheck="false" autocomplete="off">
      <button type="button" id="hook-copy">Copy</button>
    </div>
    <div class="form-actions"><button type="button" id="hook-done" class="secondary">Done, I have stored it</button></div>
  </section>
</section>
<section id="hooks" class="admin-section" aria-labelledby="hooks-list-title">
  <div class="section-head">
    <h2 id="hooks-list-title">Receivers</h2>
    <span id="hooks-count" class="count-pill" hidden></span>
  </div>
  <p class="loading" id="hooks-loading">Loading…</p>
  <ul id="hook-list" class="admin-list" aria-labelledby="hooks-list-title" hidden></ul>
  <section id="hooks-empty" class="empty" aria-labelledby="hooks-empty-title" hidden>
    <span class="empty-mark" aria-hidden="true"></span>
    <h3 id="hooks-empty-title">No webhooks yet</h3>
    <p>Add the URL of an app that should hear of changes. Each delivery is signed, and retried for a day until the app answers with a 2xx.</p>
  </section>
</section>
<dialog id="hook-confirm" aria-labelledby="hook-confirm-title" aria-describedby="hook-confirm-text">
  <form method="dialog" class="dialog-form">
    <h2 id="hook-confirm-title">Delete this webhook?</h2>
    <p id="hook-confirm-text"></p>
    <div class="actions dialog-actions">
      <button type="submit" value="yes" class="danger" id="hook-confirm-yes">Delete webhook</button>
      <button type="submit" value="no" class="secondary">Cancel</button>
    </div>
  </form>
</dialog>`,
    });
  });
  app.get('/admin', { preHandler: requireUser(sessions) }, adminPage);
  // the sections' own addresses show the same page (whose script scrolls to the section)
  app.get('/admin/people', { preHandler: requireUser(sessions) }, adminPage);
  app.get('/admin/groups', { preHandler: requireUser(sessions) }, adminPage);
}
