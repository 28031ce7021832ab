import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildActionUrl } from '../src/discovery/action-url.ts';
import { DiscoveryClient } from '../src/discovery/client.ts';
import { type Discovery, DiscoveryError, parseDiscovery } from '../src/discovery/discovery.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/discovery/${name}.xml`, import.meta.url), 'utf8');
const fixtures = {
  onlyoffice: fixture('onlyoffice'),
  collabora: fixture('collabora'),
  microsoft: fixture('microsoft'),
};

/** The proof-key attributes exactly as the fixture spells them, to compare the parser against. */
function proofAttributes(xml: string): Record<string, string> {
  const element = /<proof-key\b([^>]*)\/>/.exec(xml)?.[1] ?? '';
  return Object.fromEntries([...element.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] ?? '', m[2] ?? '']));
}

function assertProofKey(discovery: Discovery, xml: string): void {
  const attrs = proofAttributes(xml);
  assert.ok(attrs.value && attrs.oldvalue, 'fixture has a proof key');
  assert.deepEqual(discovery.proofKey, {
    current: { value: attrs.value, modulus: attrs.modulus, exponent: attrs.exponent },
    old: { value: attrs.oldvalue, modulus: attrs.oldmodulus, exponent: attrs.oldexponent },
  });
  assert.equal(Buffer.from(discovery.proofKey?.current.modulus ?? '', 'base64').length, 256);
  assert.equal(discovery.proofKey?.current.exponent, 'AQAB');
  assert.notEqual(discovery.proofKey?.current.value, discovery.proofKey?.old?.value);
  // The fixtures hold real keys: the CSP blob in `value` carries the same modulus, little-endian, after 20 bytes.
  const blob = Buffer.from(discovery.proofKey?.current.value ?? '', 'base64');
  assert.equal(blob.subarray(8, 12).toString('latin1'), 'RSA1');
  assert.equal(Buffer.from(blob.subarray(20)).reverse().toString('base64'), discovery.proofKey?.current.modulus);
}

const names = (actions: { name: string }[]) => actions.map((a) => a.name).sort();

describe('parseDiscovery', () => {
  it('reads ONLYOFFICE Docs discovery', () => {
    const d = parseDiscovery(fixtures.onlyoffice);
    assert.equal(d.flavour, 'onlyoffice');
    assert.deepEqual(d.origins, ['https://docs.example.com']);

    const edit = d.action('docx', 'edit');
    assert.ok(edit);
    assert.equal(edit.app, 'Word');
    assert.equal(edit.ext, 'docx');
    assert.deepEqual(edit.requires, ['locks', 'update']);
    assert.equal(edit.isDefault, false);
    assert.equal(
      edit.favIconUrl,
      'https://docs.example.com/web-apps/apps/documenteditor/main/resources/img/favicon.ico',
    );
    assert.equal(edit.netZone, 'external-https');
    // Entities are decoded: the template carries real angle brackets and ampersands.
    assert.ok(edit.urlsrc.startsWith('https://docs.example.com/hosting/wopi/word/edit?&<rs=DC_LLCC&>'), edit.urlsrc);
    assert.ok(edit.urlsrc.includes('<wopisrc=WOPI_SOURCE&>'));

    const view = d.action('.DOCX', 'view');
    assert.equal(view?.isDefault, true);
    assert.deepEqual(view?.requires, []);
    assert.equal(d.action('Quarterly Report.docx', 'view'), view);
    assert.deepEqual(names(d.actionsFor('docx')), ['edit', 'editnew', 'embedview', 'view']);

    const convert = d.action('doc', 'convert');
    assert.equal(convert?.targetExt, 'docx');
    assert.deepEqual(convert?.requires, ['update']);
    assert.equal(d.action('doc', 'edit'), undefined);
    assert.equal(d.action('xlsx', 'edit')?.app, 'Excel');
    assert.equal(d.action('pptx', 'embedview')?.app, 'PowerPoint');
    assert.equal(d.action('odt', 'edit')?.app, 'Word');
    assert.deepEqual(names(d.actionsFor('pdf')), ['edit', 'embedview', 'formsubmit', 'view']);
    assert.equal(d.action('pdf', 'view')?.favIconUrl?.endsWith('/pdfeditor/main/resources/img/favicon.ico'), true);

    // MIME-type apps are kept but are not found by extension.
    assert.ok(d.actions.some((a) => a.app.startsWith('application/') && a.ext === ''));
    assert.equal(d.action('', 'edit'), undefined);
    assert.deepEqual(d.actionsFor('xyz'), []);
    assertProofKey(d, fixtures.onlyoffice);
  });

  it('reads Collabora Online discovery', () => {
    const d = parseDiscovery(fixtures.collabora);
    assert.equal(d.flavour, 'collabora');
    assert.deepEqual(d.origins, ['https://collabora.example.com:9980']);
    assert.equal(d.capabilitiesUrl, 'https://collabora.example.com:9980/hosting/capabilities');

    for (const ext of ['docx', 'odt', 'doc', 'xlsx', 'pptx']) {
      const edit = d.action(ext, 'edit');
      assert.ok(edit, ext);
      assert.equal(edit.urlsrc, 'https://collabora.example.com:9980/browser/5a1c0de/cool.html?');
      assert.deepEqual(edit.requires, []);
      assert.equal(edit.isDefault, true);
    }
    assert.equal(d.action('docx', 'edit')?.app, 'writer');
    assert.equal(
      d.action('xlsx', 'edit')?.favIconUrl,
      'https://collabora.example.com:9980/browser/5a1c0de/images/x-office-spreadsheet.svg',
    );
    assert.deepEqual(names(d.actionsFor('pdf')), ['view', 'view_comment']);
    assert.equal(d.action('pdf', 'edit'), undefined);
    assert.equal(d.action('docx', 'view'), undefined);
    assert.ok(d.actions.some((a) => a.app === 'application/pdf' && a.name === 'view' && a.ext === ''));
    assertProofKey(d, fixtures.collabora);
  });

  it('reads Microsoft 365 for the web discovery', () => {
    const d = parseDiscovery(fixtures.microsoft);
    assert.equal(d.flavour, 'microsoft');
    assert.deepEqual([...d.origins].sort(), [
      'https://excel.officeapps.live.com',
      'https://onenote.officeapps.live.com',
      'https://powerpoint.officeapps.live.com',
      'https://word-edit.officeapps.live.com',
      'https://word-view.officeapps.live.com',
    ]);

    const edit = d.action('docx', 'edit');
    assert.equal(edit?.app, 'Word');
    assert.deepEqual(edit?.requires, ['locks', 'cobalt', 'update']);
    assert.ok(edit?.urlsrc.startsWith('https://word-edit.officeapps.live.com/we/wordeditorframe.aspx?<ui=UI_LLCC&>'));
    assert.ok(edit?.favIconUrl?.endsWith('/word_16x1.svg'));
    assert.equal(d.action('docx', 'view')?.isDefault, true);
    assert.deepEqual(names(d.actionsFor('docx')), ['edit', 'editnew', 'embedview', 'view']);
    assert.equal(d.action('xls', 'convert')?.targetExt, 'xlsx');
    assert.equal(d.action('ppt', 'convert')?.targetExt, 'pptx');
    assert.deepEqual(d.action('xlsx', 'edit')?.requires, ['update']);
    assert.equal(d.action('pdf', 'view')?.app, 'WordPdf');
    assert.equal(d.action('odt', 'edit')?.app, 'Word');
    assert.equal(d.action('wopitest', 'getinfo')?.app, 'WopiTest');
    assert.equal(d.capabilitiesUrl, undefined);
    assertProofKey(d, fixtures.microsoft);
  });

  it('reads a single app with a single action, and no proof key', () => {
    const d = parseDiscovery(
      `<wopi-discovery><net-zone name="external-http"><app name="Word"><action name="edit" ext="DOCX" urlsrc="http://10.0.0.5:8000/x/edit?"/></app></net-zone></wopi-discovery>`,
    );
    assert.equal(d.actions.length, 1);
    assert.equal(d.action('docx', 'edit')?.urlsrc, 'http://10.0.0.5:8000/x/edit?');
    assert.equal(d.proofKey, undefined);
    assert.equal(d.flavour, 'generic');
    assert.deepEqual(d.origins, ['http://10.0.0.5:8000']);
  });

  it('prefers the external-https zone when several zones list the same action', () => {
    const d = parseDiscovery(`<?xml version="1.0"?>
      <wopi-discovery>
        <net-zone name="internal-http">
          <app name="Word"><action name="edit" ext="docx" urlsrc="http://office.internal/we/wordeditorframe.aspx?"/></app>
        </net-zone>
        <net-zone name="external-https">
          <app name="Word"><action name="edit" ext="docx" urlsrc="https://office.example.com/we/wordeditorframe.aspx?"/></app>
        </net-zone>
      </wopi-discovery>`);
    assert.equal(d.actions.length, 2);
    assert.equal(d.action('docx', 'edit')?.netZone, 'external-https');
    assert.equal(d.actionsFor('docx').length, 1);
    assert.deepEqual(d.origins, ['http://office.internal', 'https://office.example.com']);
    assert.equal(d.flavour, 'microsoft');
  });

  it('throws DiscoveryError on malformed XML, other documents and empty discovery', () => {
    const cases: [string, RegExp][] = [
      ['<wopi-discovery><net-zone><app name="Word"></net-zone></wopi-discovery>', /malformed/],
      ['<wopi-discovery><net-zone', /malformed/],
      ['not xml at all', /malformed/],
      ['', /malformed|no <wopi-discovery>/],
      ['<html><body>502 Bad Gateway</body></html>', /no <wopi-discovery> root/],
      ['<wopi-discovery></wopi-discovery>', /no actions/],
      ['<wopi-discovery><net-zone name="x"><app name="Word"/></net-zone></wopi-discovery>', /no actions/],
      [
        '<wopi-discovery><net-zone><app name="W"><action name="edit" ext="docx"/></app></net-zone></wopi-discovery>',
        /no actions/,
      ],
    ];
    for (const [xml, message] of cases) {
      assert.throws(
        () => parseDiscovery(xml),
        (err: unknown) => err instanceof DiscoveryError && message.test(err.message),
        JSON.stringify(xml),
      );
    }
  });
});

describe('buildActionUrl', () => {
  const wopiSrc = 'https://quire.example.com/wopi/files/a b&c=d%2F?x';
  const params = { wopiSrc, uiLanguage: 'de-DE', dataLanguage: 'fr-FR', disableChat: true, themeId: '2' };

  /** What every built URL must satisfy. */
  function assertWellFormed(url: string): URL {
    const parsed = new URL(url);
    assert.ok(!/[<>]/.test(url), `no leftover placeholder in ${url}`);
    assert.ok(!url.includes('&&'), `no && in ${url}`);
    assert.ok(!url.includes('?&'), `no ?& in ${url}`);
    assert.ok(!url.endsWith('&') && !url.endsWith('?'), `no dangling separator in ${url}`);
    const wopiSrcKeys = [...parsed.searchParams.keys()].filter((k) => k.toLowerCase() === 'wopisrc');
    assert.equal(wopiSrcKeys.length, 1, `WOPISrc exactly once in ${url}`);
    assert.equal(parsed.searchParams.get(wopiSrcKeys[0] ?? ''), wopiSrc);
    assert.ok(url.includes(encodeURIComponent(wopiSrc)), `WOPISrc URL-encoded in ${url}`);
    return parsed;
  }

  for (const [flavour, ext] of [
    ['onlyoffice', 'docx'],
    ['collabora', 'docx'],
    ['microsoft', 'docx'],
    ['onlyoffice', 'xlsx'],
    ['microsoft', 'pptx'],
  ] as const) {
    it(`builds ${flavour} ${ext} view and edit URLs`, () => {
      const d = parseDiscovery(fixtures[flavour]);
      for (const name of ['view', 'edit'] as const) {
        const action = d.action(ext, name);
        if (flavour === 'collabora' && name === 'view') {
          assert.equal(action, undefined, 'Collabora lists only edit for docx');
          continue;
        }
        assert.ok(action, `${flavour} ${ext} ${name}`);
        const url = assertWellFormed(buildActionUrl(action.urlsrc, params));
        assert.ok(d.origins.includes(url.origin));
        if (flavour === 'collabora') continue;
        assert.equal(url.searchParams.get('ui'), 'de-DE');
        assert.equal(url.searchParams.get('rs'), 'fr-FR');
        assert.equal(url.searchParams.get('dchat'), '1');
        // Placeholders without a value are dropped, name and all.
        for (const dropped of ['hid', 'sc', 'IsLicensedUser', 'actnavid', 'showpagestats', 'embed', 'fs', 'rec']) {
          assert.equal(url.searchParams.has(dropped), false, `${dropped} dropped from ${url}`);
        }
        if (flavour === 'onlyoffice') assert.equal(url.searchParams.get('thm'), '2');
      }
    });
  }

  it('gives Collabora the WOPISrc after its trailing ?', () => {
    const urlsrc = parseDiscovery(fixtures.collabora).action('odt', 'edit')?.urlsrc ?? '';
    assert.equal(
      buildActionUrl(urlsrc, { wopiSrc: 'https://quire.example.com/wopi/files/f1' }),
      'https://collabora.example.com:9980/browser/5a1c0de/cool.html?WOPISrc=https%3A%2F%2Fquire.example.com%2Fwopi%2Ffiles%2Ff1',
    );
  });

  it('fills ONLYOFFICE placeholders in template order and keeps its lower-case wopisrc', () => {
    const urlsrc = parseDiscovery(fixtures.onlyoffice).action('docx', 'embedview')?.urlsrc ?? '';
    const url = buildActionUrl(urlsrc, {
      wopiSrc: 'https://q.example/wopi/files/7',
      uiLanguage: 'en-US',
      embedded: true,
      fullscreen: true,
      recording: true,
      hostSessionId: 'hs-1',
      sessionContext: 'ctx=a&b',
      disableChat: true,
    });
    assert.equal(
      url,
      'https://docs.example.com/hosting/wopi/word/embedview?dchat=1&embed=true&fs=true&hid=hs-1&rec=true' +
        '&sc=ctx%3Da%26b&ui=en-US&wopisrc=https%3A%2F%2Fq.example%2Fwopi%2Ffiles%2F7',
    );
    assert.equal(new URL(url).searchParams.get('sc'), 'ctx=a&b');
  });

  it('fills Microsoft-only placeholders and the validator category (a placeholder without &)', () => {
    const urlsrc = parseDiscovery(fixtures.microsoft).action('wopitest', 'getinfo')?.urlsrc ?? '';
    const url = assertWellFormed(
      buildActionUrl(urlsrc, { wopiSrc, businessUser: true, validatorTest: 'OfficeOnline', hostSessionId: 'h' }),
    );
    assert.equal(url.searchParams.get('IsLicensedUser'), '1');
    assert.equal(url.searchParams.get('testcategory'), 'OfficeOnline');
    assert.equal(url.searchParams.get('hid'), 'h');
    assert.equal(url.searchParams.has('ui'), false);
  });

  it('keeps literal query parameters and drops unknown placeholders', () => {
    const url = buildActionUrl(
      'https://office.example.com/wv/wordviewerframe.aspx?PdfMode=1&<ui=UI_LLCC&><future=SOMETHING_NEW&><x=Y>&<wopisrc=WOPI_SOURCE&>',
      { wopiSrc: 'https://h/wopi/files/1', uiLanguage: 'nl-NL' },
    );
    assert.equal(
      url,
      'https://office.example.com/wv/wordviewerframe.aspx?PdfMode=1&ui=nl-NL&wopisrc=https%3A%2F%2Fh%2Fwopi%2Ffiles%2F1',
    );
    assertWellFormed(buildActionUrl('https://e.example/a?<a=B&>&&<c=D&>&', { wopiSrc }));
  });

  it('takes a caller-supplied value for a placeholder Quire does not model', () => {
    const url = buildActionUrl('https://e.example/p?<showpagestats=PERFSTATS&><ui=UI_LLCC&>', {
      wopiSrc: 'https://h/w/files/1',
      placeholders: { PERFSTATS: '1' },
    });
    assert.equal(url, 'https://e.example/p?showpagestats=1&WOPISrc=https%3A%2F%2Fh%2Fw%2Ffiles%2F1');
  });

  it('adds WOPISrc to a template without a query, and never twice', () => {
    assert.equal(
      buildActionUrl('https://e.example/edit', { wopiSrc: 'https://h/w/files/1' }),
      'https://e.example/edit?WOPISrc=https%3A%2F%2Fh%2Fw%2Ffiles%2F1',
    );
    const twice = buildActionUrl('https://e.example/edit?WOPISrc=stale&<wopisrc=WOPI_SOURCE&><WOPISrc=WOPI_SOURCE&>', {
      wopiSrc,
    });
    assertWellFormed(twice);
    assert.ok(!twice.includes('stale'));
  });

  it('rejects an empty wopiSrc', () => {
    assert.throws(() => buildActionUrl('https://e.example/edit?', { wopiSrc: '' }), TypeError);
  });
});

/** A stand-in editor on 127.0.0.1 that serves whatever `answer` says and counts requests per path. */
class FakeEditor {
  answer: { status: number; body: string; delayMs?: number } = { status: 200, body: fixtures.onlyoffice };
  readonly hits = new Map<string, number>();
  #server: Server = createServer((req, res) => {
    const path = req.url ?? '';
    this.hits.set(path, (this.hits.get(path) ?? 0) + 1);
    const { status, body, delayMs = 0 } = this.answer;
    setTimeout(() => {
      res.writeHead(status, { 'content-type': status === 200 ? 'text/xml; charset=utf-8' : 'text/plain' });
      res.end(status === 200 ? body : `${status} from the fake editor`);
    }, delayMs);
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }
  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
  count(prefix: string): number {
    return this.hits.get(`${prefix}/hosting/discovery`) ?? 0;
  }
}

describe('DiscoveryClient', () => {
  const editor = new FakeEditor();
  before(() => editor.start());
  after(() => editor.close());

  // Each test uses its own path prefix, so request counts do not mix.
  let prefixes = 0;
  function client(opts: Partial<ConstructorParameters<typeof DiscoveryClient>[0]> = {}) {
    const prefix = `/editor-${++prefixes}`;
    editor.answer = { status: 200, body: fixtures.onlyoffice };
    return { prefix, client: new DiscoveryClient({ editorUrl: `${editor.url}${prefix}/`, ...opts }) };
  }

  it('builds the discovery URL without a double slash', () => {
    assert.equal(
      new DiscoveryClient({ editorUrl: 'https://docs.example.com/' }).discoveryUrl,
      'https://docs.example.com/hosting/discovery',
    );
    assert.equal(
      new DiscoveryClient({ editorUrl: 'https://docs.example.com/office' }).discoveryUrl,
      'https://docs.example.com/office/hosting/discovery',
    );
  });

  it('fetches once for many get() calls, concurrent ones included', async () => {
    const { prefix, client: c } = client();
    editor.answer.delayMs = 50;
    assert.equal(c.cached(), undefined);
    const all = await Promise.all(Array.from({ length: 10 }, () => c.get()));
    assert.ok(all.every((d) => d === all[0]));
    assert.equal(all[0]?.flavour, 'onlyoffice');
    for (let i = 0; i < 5; i++) assert.equal(await c.get(), all[0]);
    assert.equal(c.cached(), all[0]);
    assert.equal(editor.count(prefix), 1);
  });

  it('refetches on refresh()', async () => {
    const { prefix, client: c } = client();
    const first = await c.get();
    editor.answer = { status: 200, body: fixtures.collabora };
    const second = await c.refresh();
    assert.equal(editor.count(prefix), 2);
    assert.notEqual(second, first);
    assert.equal(second.flavour, 'collabora');
    assert.equal(await c.get(), second);
    assert.equal(c.cached(), second);
    assert.equal(editor.count(prefix), 2);
  });

  it('keeps the old copy when a refresh fails', async () => {
    const { prefix, client: c } = client();
    const first = await c.get();
    for (const answer of [
      { status: 500, body: '' },
      { status: 200, body: '<wopi-discovery><oops' },
    ]) {
      editor.answer = answer;
      await assert.rejects(c.refresh(), DiscoveryError);
      assert.equal(c.cached(), first);
      assert.equal(await c.get(), first);
    }
    assert.equal(editor.count(prefix), 3);
  });

  it('refetches a copy older than refreshMs, and falls back to it if the editor is down', async () => {
    let now = 1_000_000;
    const errors: unknown[] = [];
    const { prefix, client: c } = client({ refreshMs: 60_000, now: () => now, onError: (e) => errors.push(e) });
    const first = await c.get();
    now += 59_999;
    assert.equal(await c.get(), first);
    assert.equal(editor.count(prefix), 1);

    now += 1;
    editor.answer = { status: 503, body: '' };
    assert.equal(await c.get(), first);
    assert.equal(editor.count(prefix), 2);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof DiscoveryError);

    editor.answer = { status: 200, body: fixtures.microsoft };
    const fresh = await c.get();
    assert.equal(fresh.flavour, 'microsoft');
    assert.equal(editor.count(prefix), 3);
    assert.equal(await c.get(), fresh);
    assert.equal(editor.count(prefix), 3);
  });

  it('gives a clear error when nothing is cached and the editor answers 404', async () => {
    const { prefix, client: c } = client();
    editor.answer = { status: 404, body: '' };
    await assert.rejects(c.get(), (err: unknown) => {
      assert.ok(err instanceof DiscoveryError);
      assert.match(err.message, /HTTP 404/);
      assert.ok(err.message.includes(`${editor.url}${prefix}/hosting/discovery`), err.message);
      return true;
    });
    assert.equal(c.cached(), undefined);
    // A failure is not cached: the next call asks again.
    editor.answer = { status: 200, body: fixtures.onlyoffice };
    assert.equal((await c.get()).flavour, 'onlyoffice');
    assert.equal(editor.count(prefix), 2);
  });

  it('gives a clear error when nothing is cached and the editor answers garbage', async () => {
    const { client: c } = client();
    for (const body of ['<html><body>Welcome to nginx!</body></html>', '{"error": "no"}', '<<<']) {
      editor.answer = { status: 200, body };
      await assert.rejects(c.get(), (err: unknown) => {
        assert.ok(err instanceof DiscoveryError);
        assert.match(
          err.message,
          /discovery at .* is not usable: Discovery XML (is malformed|has no <wopi-discovery>)/,
        );
        return true;
      });
    }
    assert.equal(c.cached(), undefined);
  });

  it('gives a clear error when the editor cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const c = new DiscoveryClient({ editorUrl: `http://127.0.0.1:${port}` });
    await assert.rejects(
      c.get(),
      /Cannot reach the editor's discovery at http:\/\/127\.0\.0\.1:\d+\/hosting\/discovery/,
    );
  });

  it('times out a hanging editor', async () => {
    const { client: c } = client({ timeoutMs: 100 });
    editor.answer = { status: 200, body: fixtures.onlyoffice, delayMs: 2_000 };
    const started = Date.now();
    await assert.rejects(c.get(), DiscoveryError);
    assert.ok(Date.now() - started < 1_500);
  });

  it('start() fetches at once and then every refreshMs; stop() ends that', async () => {
    const errors: unknown[] = [];
    const { prefix, client: c } = client({ refreshMs: 40, onError: (e) => errors.push(e) });
    c.start();
    c.start(); // idempotent
    for (let waited = 0; editor.count(prefix) < 3 && waited < 5_000; waited += 20) await sleep(20);
    c.stop();
    await sleep(100); // a fetch the last tick started may still be answering
    const seen = editor.count(prefix);
    assert.ok(seen >= 3, `fetched ${seen} times`);
    assert.equal(c.cached()?.flavour, 'onlyoffice');
    await sleep(120);
    assert.equal(editor.count(prefix), seen);
    assert.deepEqual(errors, []);
  });
});
