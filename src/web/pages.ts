import type { FastifyInstance, FastifyReply } from 'fastify';
import type { WopiHost } from '../wopi/context.ts';
import { currentUser, requireUser, type SessionOptions } from './session.ts';
import { escapeHtml, renderDocument, sendPage, sendProblem } from './shell.ts';

/** The app's sections, in the header of every page; every signed-in user may use each (they see what is theirs). */
const SECTIONS = [
  { page: 'files', href: '/', label: 'Documents' },
  { page: 'locks', href: '/locks', label: 'Editing sessions' },
  { page: 'activity', href: '/activity', label: 'Activity' },
] as const;

/** A page of the app; its script fills it from the JSON API (the pages do everything through that API). */
function sendAppPage(
  reply: FastifyReply,
  input: {
    title: string;
    user: string;
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
  const nav = SECTIONS.map((s) => {
    const current =
      s.page !== input.section ? '' : s.page === input.page ? ' aria-current="page"' : ' aria-current="true"';
    return `<a href="${s.href}"${current}>${s.label}</a>`;
  }).join('');
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

/** The "Live" badge of a page that follows the event stream; common.js keeps it true. */
const LIVE_BADGE =
  '<p id="live" class="live" data-state="connecting" title="Connecting to live updates"><span class="dot" aria-hidden="true"></span><span>Connecting…</span></p>';

/** Quire's own pages: the document list, a document's version history, the editing sessions and the activity log. */
export function registerPages(app: FastifyInstance, host: WopiHost, sessions: SessionOptions): void {
  app.get('/', { preHandler: requireUser(sessions) }, async (request, reply) => {
    const user = await currentUser(request, sessions);
    return sendAppPage(reply, {
      title: 'Documents – Quire',
      user: user?.displayName ?? '',
      page: 'files',
      section: 'files',
      main: `<h1>Documents</h1>
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
<table id="files" class="files">
  <caption class="visually-hidden">Documents</caption>
  <thead><tr><th scope="col">Name</th><th scope="col">Size</th><th scope="col">Last change</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead>
  <tbody><tr><td colspan="5">Loading…</td></tr></tbody>
</table>
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
</dialog>`,
    });
  });

  app.get<{ Params: { id: string } }>('/files/:id', { preHandler: requireUser(sessions) }, async (request, reply) => {
    const user = await currentUser(request, sessions);
    const file = await host.storage.catalog.getFile(request.params.id);
    if (!file) {
      return sendProblem(reply, 404, 'No such document', 'It may have been deleted or renamed.');
    }
    return sendAppPage(reply, {
      title: `${file.name} – history – Quire`,
      user: user?.displayName ?? '',
      page: 'history',
      section: 'files',
      data: { file: file.id },
      main: `<p><a href="/">← All documents</a></p>
<h1 id="file-name">${escapeHtml(file.name)}</h1>
<div class="actions">
  <a class="button" href="/files/${encodeURIComponent(file.id)}/open?action=edit">Open in editor</a>
  <a class="button" href="/api/files/${encodeURIComponent(file.id)}/content">Download</a>
  <a class="button secondary" href="/activity?file=${encodeURIComponent(file.id)}" aria-label="Activity of ${escapeHtml(file.name)}">Activity</a>
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
</section>`,
    });
  });
  app.get('/locks', { preHandler: requireUser(sessions) }, async (request, reply) => {
    const user = await currentUser(request, sessions);
    return sendAppPage(reply, {
      title: 'Editing sessions – Quire',
      user: user?.displayName ?? '',
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
}
