import type { FastifyInstance, FastifyReply } from 'fastify';
import type { WopiHost } from '../wopi/context.ts';
import { currentUser, requireUser, type SessionOptions } from './session.ts';
import { escapeHtml, renderDocument, sendPage, sendProblem } from './shell.ts';

/** A document page; /static/app.js fills it from the JSON API (the page does everything through that API). */
function sendAppPage(
  reply: FastifyReply,
  input: { title: string; user: string; page: string; main: string; data?: Record<string, string> },
) {
  const data = Object.entries({ page: input.page, ...input.data }).map(([k, v]) => [`data-${k}`, v]);
  const html = renderDocument({
    title: input.title,
    head: '<script src="/static/app.js" defer></script>',
    bodyAttributes: Object.fromEntries(data),
    body: `<a class="skip" href="#main">Skip to content</a>
<header class="bar">
  <a class="brand" href="/">Quire</a>
  <span class="who">Signed in as <strong>${escapeHtml(input.user)}</strong></span>
  <form method="post" action="/logout"><button type="submit" class="link">Sign out</button></form>
</header>
<main id="main">
${input.main}
<p id="message" role="status" aria-live="polite"></p>
</main>`,
  });
  return sendPage(reply, { kind: 'app' }, html);
}

/** Quire's own pages: the document list and a document's version history. */
export function registerPages(app: FastifyInstance, host: WopiHost, sessions: SessionOptions): void {
  app.get('/', { preHandler: requireUser(sessions) }, async (request, reply) => {
    const user = await currentUser(request, sessions);
    return sendAppPage(reply, {
      title: 'Documents – Quire',
      user: user?.displayName ?? '',
      page: 'files',
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
  <form method="dialog" id="rename-form">
    <h2 id="rename-title">Rename</h2>
    <label for="rename-name">New name</label>
    <input id="rename-name" name="name" required autocomplete="off">
    <div class="actions"><button type="submit" value="save">Rename</button><button type="button" value="cancel" data-close>Cancel</button></div>
  </form>
</dialog>
<dialog id="confirm-dialog" aria-labelledby="confirm-title">
  <form method="dialog">
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
      data: { file: file.id },
      main: `<p><a href="/">← All documents</a></p>
<h1 id="file-name">${escapeHtml(file.name)}</h1>
<div class="actions">
  <a class="button" href="/files/${encodeURIComponent(file.id)}/open?action=edit">Open in editor</a>
  <a class="button" href="/api/files/${encodeURIComponent(file.id)}/content">Download</a>
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
}
