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

function discoveryXml(base: string): string {
  const app = (name: string, exts: string[]) =>
    `<app name="${name}" favIconUrl="${base}/favicon-${name.toLowerCase()}.ico">${exts
      .flatMap((ext) =>
        ['view', 'edit'].map(
          (action) =>
            `<action name="${action}" ext="${ext}" ${action === 'edit' ? 'default="true" requires="locks,update"' : ''} urlsrc="${base}/hosting/wopi/${name.toLowerCase()}/${action}?&amp;&lt;ui=UI_LLCC&amp;&gt;&lt;rs=DC_LLCC&amp;&gt;&lt;wopisrc=WOPI_SOURCE&amp;&gt;&amp;"/>`,
        ),
      )
      .join('')}</app>`;
  return `<?xml version="1.0" encoding="utf-8"?>
<wopi-discovery><net-zone name="external-http">${app('Word', ['docx', 'odt'])}${app('Excel', ['xlsx'])}</net-zone></wopi-discovery>`;
}

/** The editor page: plain browser JavaScript that speaks WOPI to Quire, logging each step into #log. */
function editorPage(wopiSrc: string, token: string): string {
  const config = JSON.stringify({ wopiSrc, token }).replace(/</g, '\\u003c');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Stand-in editor</title></head>
<body><h1>Stand-in editor</h1><ol id="log"></ol><button id="close" type="button">Close</button>
<script>
const { wopiSrc, token } = ${config};
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

export async function startStandInEditor(): Promise<StandInEditor> {
  const posts: StandInEditor['posts'] = [];
  let base = '';
  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', base);
    if (req.method === 'GET' && url.pathname === '/hosting/discovery') {
      res.writeHead(200, { 'Content-Type': 'text/xml; charset=utf-8' }).end(discoveryXml(base));
      return;
    }
    if (req.method === 'POST' && url.pathname.startsWith('/hosting/wopi/')) {
      const form = await formOf(req);
      posts.push({
        url: url.toString(),
        accessToken: form.get('access_token'),
        accessTokenTtl: form.get('access_token_ttl'),
      });
      const wopiSrc = url.searchParams.get('wopisrc') ?? url.searchParams.get('WOPISrc') ?? '';
      res
        .writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' })
        .end(editorPage(wopiSrc, form.get('access_token') ?? ''));
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
