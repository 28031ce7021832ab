import type { AppUser } from './accounts.ts';

/** The app's own pages: plain server-rendered HTML, nothing of Quire's. */

export const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const STYLE = `
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,sans-serif;color:#1d2330;background:#f4f5f8}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;padding:.75rem 1rem;
background:#24324a;color:#fff}header a,header button{color:#fff}header strong{font-size:1.1rem}
main{max-width:52rem;margin:1.5rem auto;padding:0 1rem}h1{font-size:1.4rem;margin:.5rem 0 1rem}
.card{background:#fff;border:1px solid #dde1e8;border-radius:8px;padding:1rem 1.25rem}
ul.docs{list-style:none;margin:0;padding:0}ul.docs li{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center;
justify-content:space-between;padding:.75rem 0;border-bottom:1px solid #eceef2}ul.docs li:last-child{border:0}
.name{font-weight:600;overflow-wrap:anywhere}.meta{color:#5a6272;font-size:.875rem}.actions{display:flex;gap:.5rem}
a.button,button{display:inline-block;padding:.4rem .9rem;border-radius:6px;border:1px solid #24324a;background:#24324a;
color:#fff;text-decoration:none;font:inherit;cursor:pointer}a.button.secondary{background:#fff;color:#24324a}
header button{background:transparent;border-color:#fff}.who{display:flex;gap:1rem;align-items:center}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}input{width:100%;padding:.5rem;font:inherit;border:1px solid
#b9c0cc;border-radius:6px}form.login button{margin-top:1rem;width:100%}.error{color:#a11;margin:.5rem 0 0}
.empty{color:#5a6272}.badge{font-size:.75rem;padding:.1rem .45rem;border-radius:999px;background:#fff3cd;color:#6a4d00}
:focus-visible{outline:3px solid #f0a500;outline-offset:2px}`;

function page(title: string, body: string, user?: AppUser): string {
  const bar = user
    ? `<div class="who"><span>${esc(user.fullName)}</span><form method="post" action="/logout"><button>Sign out</button></form></div>`
    : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)} – Casebook</title>
<style>${STYLE}</style></head><body><header><strong>Casebook</strong>${bar}</header><main>${body}</main></body></html>`;
}

export function signInPage(opts: { next: string; error?: string; login?: string }): string {
  return page(
    'Sign in',
    `<h1>Sign in</h1><form class="login card" method="post" action="/login">
<input type="hidden" name="next" value="${esc(opts.next)}">
<label for="login">Login</label><input id="login" name="login" autocomplete="username" required autofocus
  value="${esc(opts.login ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password"
  autocomplete="current-password" required>
${opts.error ? `<p class="error" role="alert">${esc(opts.error)}</p>` : ''}
<button>Sign in</button></form>`,
  );
}

export interface ListedDocument {
  id: string;
  name: string;
  owner: string;
  version: number;
  size: number;
  modifiedAt: number;
  mayEdit: boolean;
  lockedByEditor: boolean;
}

const sizeOf = (bytes: number) =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 ** 2
      ? `${(bytes / 1024).toFixed(1)} KB`
      : `${(bytes / 1024 ** 2).toFixed(1)} MB`;

export function documentsPage(user: AppUser, docs: readonly ListedDocument[]): string {
  const items = docs
    .map((d) => {
      const open = `/office/files/${encodeURIComponent(d.id)}/open?action=${d.mayEdit ? 'edit' : 'view'}`;
      return `<li><div><div class="name">${esc(d.name)}${d.lockedByEditor ? ' <span class="badge">being edited</span>' : ''}</div>
<div class="meta">${esc(d.owner)} · version ${d.version} · ${sizeOf(d.size)} · ${esc(new Date(d.modifiedAt).toISOString().slice(0, 16).replace('T', ' '))} UTC</div></div>
<div class="actions"><a class="button" href="${esc(open)}">${d.mayEdit ? 'Open' : 'View'}</a>
<a class="button secondary" href="/download/${encodeURIComponent(d.name)}">Download</a></div></li>`;
    })
    .join('');
  return page(
    'Documents',
    `<h1>Documents</h1><div class="card">${
      items ? `<ul class="docs">${items}</ul>` : '<p class="empty">No documents yet.</p>'
    }</div>`,
    user,
  );
}
