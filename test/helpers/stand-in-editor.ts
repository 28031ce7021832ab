import { createServer, type IncomingMessage, type Server } from 'node:http';

/**
 * A stand-in WOPI client served on 127.0.0.1: a discovery XML shaped like ONLYOFFICE's, and an "editor" page that,
 * inside the browser, makes the WOPI calls an editor makes (CheckFileInfo, Lock, GetFile, PutFile, RefreshLock,
 * Unlock) with the token the host page POSTed to it, then reports through postMessage like a real editor.
 */
export interface StandInEditor {
  url: string;
  origin: string;
  /** Every POST the host page made to the editor: where, and what the form carried. */
  posts: Array<{ url: string; accessToken: string | null; accessTokenTtl: string | null }>;
  close(): Promise<void>;
}

export interface StandInOptions {
  /** Shape the discovery like ONLYOFFICE's (default) or Collabora's. */
  flavour?: 'onlyoffice' | 'collabora';
  /** Publish this proof key (base64 modulus and exponent) in discovery. */
  proofKey?: { modulus: string; exponent: string };
  /**
   * Stay open like a person editing: CheckFileInfo, Lock (only when it may write), GetFile, then "ready"; each click
   * on its Save button sends one PutFile. Without it the page runs the whole edit at once and unlocks.
   */
  stayOpen?: boolean;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function discoveryXml(base: string, options: StandInOptions): string {
  const proof = options.proofKey
    ? `<proof-key modulus="${options.proofKey.modulus}" exponent="${options.proofKey.exponent}" oldmodulus="${options.proofKey.modulus}" oldexponent="${options.proofKey.exponent}"/>`
    : '';
  if (options.flavour === 'collabora') {
    const url = esc(`${base}/browser/0123abc/cool.html?`);
    const actions = ['docx', 'odt', 'xlsx']
      .map((ext) => `<app name="${ext}"><action name="edit" ext="${ext}" urlsrc="${url}"/></app>`)
      .join('');
    return `<?xml version="1.0" encoding="utf-8"?><wopi-discovery><net-zone name="external-http">${actions}<app name="Capabilities"><action name="getinfo" ext="" urlsrc="${esc(`${base}/hosting/capabilities`)}"/></app></net-zone>${proof}</wopi-discovery>`;
  }
  const action = (app: string, name: string, ext: string, extra = '') =>
    `<action name="${name}" ext="${ext}" ${extra} urlsrc="${esc(`${base}/hosting/wopi/${app}/${name}?&<ui=UI_LLCC&><rs=DC_LLCC&><wopisrc=WOPI_SOURCE&>&`)}"/>`;
  const word = ['docx', 'odt']
    .flatMap((ext) => [
      action('word', 'view', ext),
      action('word', 'edit', ext, 'default="true" requires="locks,update"'),
    ])
    .concat(action('word', 'view', 'doc'), action('word', 'convert', 'doc', 'targetext="docx"'))
    .join('');
  const cell = [action('cell', 'view', 'xlsx'), action('cell', 'edit', 'xlsx', 'default="true"')].join('');
  return `<?xml version="1.0" encoding="utf-8"?>
<wopi-discovery><net-zone name="external-http"><app name="Word" favIconUrl="${base}/favicon-word.ico">${word}</app><app name="Excel" favIconUrl="${base}/favicon-cell.ico">${cell}</app></net-zone>${proof}</wopi-discovery>`;
}

/** The editor page: plain browser JavaScript that speaks WOPI to Quire, logging each step into #log. */
function editorPage(wopiSrc: string, token: string, stayOpen: boolean): string {
  const config = JSON.stringify({ wopiSrc, token, stayOpen }).replace(/</g, '\\u003c');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Stand-in editor</title></head>
<body><h1>Stand-in editor</h1><ol id="log"></ol><button id="close" type="button">Close</button>
<button id="save" type="button">Save</button>
<script>
const { wopiSrc, token, stayOpen } = ${config};
const log = (text) => { const li = document.createElement('li'); li.textContent = text; document.getElementById('log').append(li); };
const url = (suffix) => wopiSrc + suffix + '?access_token=' + encodeURIComponent(token);
let hostOrigin = '*';
const tell = (id, values) => parent.postMessage(JSON.stringify({ MessageId: id, SendTime: Date.now(), Values: values || {} }), hostOrigin);
window.addEventListener('message', (e) => {
  if (e.origin !== hostOrigin) return;
  const m = JSON.parse(e.data);
  log('host says ' + m.MessageId);
});
document.getElementById('close').addEventListener('click', () => tell('UI_Close'));
(async () => {
  try {
    const lock = 'stand-in-lock';
    const info = await (await fetch(url(''))).json();
    hostOrigin = info.PostMessageOrigin;
    tell('App_LoaderStarted');
    log('CheckFileInfo ' + info.BaseFileName + ' as ' + info.UserFriendlyName + ' write=' + info.UserCanWrite);
    log('info ' + JSON.stringify({ UserId: info.UserId, ReadOnly: info.ReadOnly, UserCanWrite: info.UserCanWrite,
      UserCanRename: info.UserCanRename, UserCanNotWriteRelative: info.UserCanNotWriteRelative,
      IsAnonymousUser: info.IsAnonymousUser, UserFriendlyName: info.UserFriendlyName }));
    if (stayOpen) {
      if (info.UserCanWrite) {
        const locked = await fetch(url(''), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': lock } });
        log('Lock ' + locked.status);
      }
      let content = await (await fetch(url('/contents'))).text();
      log('GetFile ' + JSON.stringify(content));
      tell('Document_Loaded');
      let saves = 0;
      document.getElementById('save').addEventListener('click', async () => {
        content += ' +' + ++saves;
        const put = await fetch(url('/contents'), {
          method: 'POST',
          headers: { 'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': lock, 'X-WOPI-Editors': info.UserId },
          body: content,
        });
        log('Save ' + saves + ': PutFile ' + put.status + ' version ' + put.headers.get('X-WOPI-ItemVersion'));
      });
      log('ready');
      return;
    }
    const locked = await fetch(url(''), { method: 'POST', headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': lock } });
    log('Lock ' + locked.status);
    const content = await (await fetch(url('/contents'))).text();
    log('GetFile ' + JSON.stringify(content));
    tell('Document_Loaded');
    const put = await fetch(url('/contents'), {
      method: 'POST',
      headers: {
        'X-WOPI-Override': 'PUT', 'X-WOPI-Lock': lock, 'X-WOPI-Editors': info.UserId,
        'X-LOOL-WOPI-IsModifiedByUser': 'true', 'X-LOOL-WOPI-IsAutosave': 'false', 'X-LOOL-WOPI-IsExitSave': 'false',
        'X-LOOL-WOPI-Timestamp': info.LastModifiedTime,
      },
      body: content + ' (edited in the browser)',
    });
    const saved = await put.json();
    log('PutFile ' + put.status + ' version ' + put.headers.get('X-WOPI-ItemVersion') + ' at ' + saved.LastModifiedTime);
    tell('Doc_ModifiedStatus', { Modified: false });
    const refreshed = await fetch(url(''), { method: 'POST', headers: { 'X-WOPI-Override': 'REFRESH_LOCK', 'X-WOPI-Lock': lock } });
    log('RefreshLock ' + refreshed.status);
    const unlocked = await fetch(url(''), { method: 'POST', headers: { 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': lock } });
    log('Unlock ' + unlocked.status);
    log('done');
  } catch (err) {
    log('error ' + err);
  }
})();
</script></body></html>`;
}

async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startStandInEditor(options: StandInOptions = {}): Promise<StandInEditor> {
  const posts: StandInEditor['posts'] = [];
  let base = '';
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    if (req.method === 'GET' && url.pathname === '/hosting/discovery') {
      res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' }).end(discoveryXml(base, options));
      return;
    }
    if (req.method === 'POST' && (url.pathname.startsWith('/hosting/wopi/') || url.pathname.endsWith('/cool.html'))) {
      const form = await formOf(req);
      posts.push({
        url: url.toString(),
        accessToken: form.get('access_token'),
        accessTokenTtl: form.get('access_token_ttl'),
      });
      const wopiSrc = url.searchParams.get('wopisrc') ?? url.searchParams.get('WOPISrc') ?? '';
      res
        .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
        .end(editorPage(wopiSrc, form.get('access_token') ?? '', options.stayOpen === true));
      return;
    }
    if (url.pathname.startsWith('/favicon')) {
      res.writeHead(204).end();
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    origin: base,
    posts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
