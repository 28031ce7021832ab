import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ALL_PERMISSIONS, TokenService } from '../src/auth/tokens.ts';
import { illegalNameReason } from '../src/documents/names.ts';
import { startHost, storageKinds, type TestHost, utf7, WopiClient, type WopiResponse } from './helpers/host.ts';
import { listTree, waitFor } from './helpers/process-helpers.ts';

const LOCK = 'hostile-suite-lock';
const CONTENT = 'the original bytes of Target.docx';

/** Malformed name headers: bad UTF-7 ("+" starting nothing, non-zero padding, half a character, a lone
 * surrogate) and raw bytes that are not UTF-8. */
const BAD_NAME_HEADERS = ['a+!b.docx', '+AGF-.docx', '+A-.docx', '+2D0-.docx', '\u00ff\u00fe.docx'];

/**
 * Writes a request by hand: the head, then `body` (less than the head promises), then tears the connection down
 * without finishing. Resolves once the socket is closed.
 */
async function sendTruncated(url: string, head: Record<string, string>, body: Buffer, method = 'POST'): Promise<void> {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  socket.on('error', () => {});
  await new Promise<void>((ok, fail) => {
    socket.once('connect', ok);
    socket.once('error', fail);
  });
  const lines = [`${method} ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`];
  for (const [k, v] of Object.entries(head)) lines.push(`${k}: ${v}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  socket.write(body);
  // let the server start reading the body before the client vanishes
  await sleep(150);
  const closed = new Promise<void>((ok) => socket.once('close', () => ok()));
  socket.destroy();
  await closed;
}

/** `s` as one UTF-7 base64 run, so that even CR, LF and tab travel inside a header value. */
function shifted(s: string): string {
  const utf16be = Buffer.from(s, 'utf16le').swap16();
  return `+${utf16be.toString('base64').replace(/=+$/, '')}-`;
}

const decodeB64Url = (s: string) => Buffer.from(s, 'base64url');
const encodeB64Url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

for (const kind of storageKinds) {
  describe(`hostile input [${kind.name}]`, () => {
    let host: TestHost;
    let id: string;
    let otherId: string;
    let c: WopiClient;

    before(async () => {
      host = await startHost({ storageKind: kind });
      id = await host.addFile('Target.docx', CONTENT);
      otherId = await host.addFile('Other.docx', 'other file');
      c = await host.client(id);
      const locked = await c.lock(LOCK);
      assert.equal(locked.status, 200, locked.text);
    });
    after(() => host.close());

    const catalog = () => host.quire.host.storage.catalog;

    /** Everything a refused request must leave alone. */
    async function snapshot() {
      const files = (await catalog().listFiles()).map((f) => ({
        id: f.id,
        name: f.name,
        version: f.version,
        size: f.size,
        sha256: f.sha256,
        modifiedAt: f.modifiedAt,
      }));
      const versions = (await catalog().listVersions(id)).map((v) => [v.version, v.sha256]);
      const lock = (await c.getLock()).headers.get('x-wopi-lock');
      const content = (await c.content()).toString('utf8');
      const info = (await c.checkFileInfo()).json;
      // the data dir outside the blob objects, plus unfinished uploads (blobs/tmp)
      const tree = (await listTree(host.dataDir)).filter((p) => !p.startsWith('blobs/') || p.startsWith('blobs/tmp/'));
      return { files, versions, lock, content, name: info.BaseFileName, version: info.Version, tree };
    }

    async function assertStillServing(): Promise<void> {
      const info = await c.checkFileInfo();
      assert.equal(info.status, 200, `CheckFileInfo after the hostile request: ${info.text}`);
      assert.equal(info.json.BaseFileName, 'Target.docx');
    }

    /** Sends a hostile request; it must get `status` and change nothing; the server must keep serving. */
    async function refused(status: number, send: () => Promise<WopiResponse>, what: string): Promise<WopiResponse> {
      const beforeState = await snapshot();
      const res = await send();
      assert.equal(res.status, status, `${what}: ${res.status} ${res.text}`);
      assert.deepEqual(await snapshot(), beforeState, `${what} changed something`);
      await assertStillServing();
      return res;
    }

    it('the target starts with known content, locked', async () => {
      const s = await snapshot();
      assert.equal(s.content, CONTENT);
      assert.equal(s.lock, LOCK);
      assert.equal(s.files.length, 2);
    });

    describe('path traversal', () => {
      it('PutRelativeFile SuggestedTarget "../../etc/passwd.docx" makes a legal name inside the store', async () => {
        const treeBefore = (await listTree(host.dataDir)).filter((p) => !p.startsWith('blobs/'));
        const filesBefore = await catalog().listFiles();
        const res = await c.putRelative('copied body', { 'X-WOPI-SuggestedTarget': '../../etc/passwd.docx' });
        assert.equal(res.status, 200, res.text);
        const name: string = res.json.Name;
        assert.equal(illegalNameReason(name), null, `illegal name ${JSON.stringify(name)}`);
        assert.ok(!name.includes('/') && !name.includes('\\'), name);
        assert.ok(name.endsWith('.docx'), name);

        const filesAfter = await catalog().listFiles();
        assert.equal(filesAfter.length, filesBefore.length + 1);
        const created = filesAfter.find((f) => f.name === name);
        assert.ok(created, `catalog holds ${name}`);
        const newUrl = new URL(res.json.Url);
        assert.equal(newUrl.pathname, `/wopi/files/${created.id}`);
        const copy = new WopiClient(host.url, created.id, newUrl.searchParams.get('access_token') as string);
        assert.equal((await copy.content()).toString(), 'copied body');

        // nothing new outside the blob store; nothing written where the ".." would have led
        assert.deepEqual(
          (await listTree(host.dataDir)).filter((p) => !p.startsWith('blobs/')),
          treeBefore,
        );
        assert.deepEqual(await readdir(join(host.dataDir, 'blobs', 'tmp')), []);
        assert.equal(existsSync(resolve(host.dataDir, '../../etc/passwd.docx')), false);
        assert.equal(existsSync(resolve(host.dataDir, '../etc/passwd.docx')), false);
        assert.equal(existsSync(join(dirname(host.dataDir), 'passwd.docx')), false);

        assert.equal((await c.content()).toString(), CONTENT, 'the source is untouched');
        await assertStillServing();
      });

      it('PutRelativeFile SuggestedTarget: every hostile suggestion becomes a legal name', async () => {
        const suggestions = [
          '../../etc/passwd.docx',
          '..+AC8-..+AC8-etc+AC8-shadow.docx',
          '..\\..\\windows\\win.ini.docx',
          '/absolute/path.docx',
          'a:b*c?d"e<f>g|h.docx',
          `ctl${shifted('\u0001\n\u001f')}.docx`,
          'CON.docx',
          'CON.docx.',
          'nul.txt.',
          'trailing dot.docx.',
          'trailing space.docx ',
          '...',
          `${'x'.repeat(400)}.docx`,
          // a legal name with a long extension, twice: the second needs " (1)" and has no room for a base
          `a.${'e'.repeat(250)}`,
          `a.${'e'.repeat(250)}`,
        ];
        const illegal: string[] = [];
        for (const suggestion of suggestions) {
          const before = (await catalog().listFiles()).length;
          const res = await c.putRelative('body', { 'X-WOPI-SuggestedTarget': suggestion });
          assert.equal(res.status, 200, `${JSON.stringify(suggestion)}: ${res.text}`);
          const name: string = res.json.Name;
          const files = await catalog().listFiles();
          assert.equal(files.length, before + 1);
          assert.ok(
            files.some((f) => f.name === name),
            name,
          );
          const reason = illegalNameReason(name);
          if (reason) illegal.push(`${JSON.stringify(suggestion)} was stored as ${JSON.stringify(name)} (${reason})`);
        }
        assert.deepEqual(illegal, [], 'every stored name is legal');
        assert.equal((await c.content()).toString(), CONTENT, 'the source is untouched');
        await assertStillServing();
      });

      for (const target of ['../x.docx', '..\\x.docx', '../../etc/passwd.docx', '/x.docx', 'a:b.docx']) {
        it(`PutRelativeFile RelativeTarget ${JSON.stringify(target)} → 400 with X-WOPI-InvalidFileNameError`, async () => {
          const res = await refused(
            400,
            () => c.putRelative('body', { 'X-WOPI-RelativeTarget': target }),
            `RelativeTarget ${target}`,
          );
          assert.ok(res.headers.get('x-wopi-invalidfilenameerror'), 'X-WOPI-InvalidFileNameError is set');
        });
      }

      it('PutRelativeFile RelativeTarget with other illegal names → 400', async () => {
        for (const target of [
          `a${shifted('\u0001')}.docx`,
          `a${shifted('\n')}.docx`,
          'CON.docx',
          'x.docx.',
          `${'x'.repeat(300)}.docx`,
          '..',
        ]) {
          const res = await refused(
            400,
            () => c.putRelative('body', { 'X-WOPI-RelativeTarget': target }),
            `RelativeTarget ${JSON.stringify(target)}`,
          );
          assert.ok(res.headers.get('x-wopi-invalidfilenameerror'), `${JSON.stringify(target)}: header set`);
        }
      });

      it('PutRelativeFile RelativeTarget holding DEL (U+007F) → 400 with X-WOPI-InvalidFileNameError', async () => {
        const res = await refused(
          400,
          () => c.putRelative('body', { 'X-WOPI-RelativeTarget': `a${shifted('\u007f')}.docx` }),
          'RelativeTarget with DEL',
        );
        assert.ok(res.headers.get('x-wopi-invalidfilenameerror'));
      });
    });

    describe('names a header cannot carry raw', () => {
      it('PutRelativeFile RelativeTarget naming an existing CJK name → 409 with X-WOPI-ValidRelativeTarget', async () => {
        await host.addFile('日本語 報告.docx', 'taken');
        const res = await refused(
          409,
          () => c.putRelative('body', { 'X-WOPI-RelativeTarget': utf7('日本語 報告.docx') }),
          'RelativeTarget of an existing CJK name',
        );
        assert.equal(res.headers.get('x-wopi-validrelativetarget'), utf7('日本語 報告 (1).docx'));
      });
    });

    describe('RenameFile with forbidden characters', () => {
      const forbidden = ['/', '\\', ':', '*', '?', '"', '<', '>', '|'];
      for (const ch of forbidden) {
        it(`refuses a name holding ${JSON.stringify(ch)} (raw and UTF-7) → 400 with X-WOPI-InvalidFileNameError`, async () => {
          for (const header of [`a${ch}b`, utf7(`a${ch}b`), utf7(`${ch}`)]) {
            const res = await refused(
              400,
              () => c.rename(header, { 'X-WOPI-Lock': LOCK }),
              `RenameFile ${JSON.stringify(header)}`,
            );
            assert.ok(res.headers.get('x-wopi-invalidfilenameerror'), `${JSON.stringify(header)}: header set`);
          }
        });
      }

      it('refuses names holding control characters → 400 with X-WOPI-InvalidFileNameError', async () => {
        for (const ctl of ['\u0000', '\u0001', '\u0009', '\u000a', '\u000d', '\u001b', '\u001f', '\u007f']) {
          const header = `a${shifted(ctl)}b`;
          const res = await refused(
            400,
            () => c.rename(header, { 'X-WOPI-Lock': LOCK }),
            `RenameFile with U+${ctl.charCodeAt(0).toString(16).padStart(4, '0')}`,
          );
          assert.ok(res.headers.get('x-wopi-invalidfilenameerror'));
        }
      });

      it('refuses empty, dot-only and reserved names → 400 with X-WOPI-InvalidFileNameError', async () => {
        for (const header of ['', '.', '..', 'CON', 'nul', 'x'.repeat(300)]) {
          const res = await refused(
            400,
            () => c.rename(header, { 'X-WOPI-Lock': LOCK }),
            `RenameFile ${JSON.stringify(header.slice(0, 20))}`,
          );
          assert.ok(res.headers.get('x-wopi-invalidfilenameerror'), JSON.stringify(header.slice(0, 20)));
        }
      });
    });

    describe('over-long locks', () => {
      const longLock = 'L'.repeat(1025);

      it('LOCK with a 1025-character lock → 400', async () => {
        await refused(400, () => c.lock(longLock), 'LOCK 1025');
      });

      it('UnlockAndRelock with a 1025-character old or new lock → 400', async () => {
        await refused(400, () => c.unlockAndRelock(LOCK, longLock), 'relock to 1025');
        await refused(400, () => c.unlockAndRelock(longLock, 'short'), 'relock from 1025');
      });

      it('PutFile with a 1025-character lock → 400', async () => {
        await refused(400, () => c.putFile('overwritten', { 'X-WOPI-Lock': longLock }), 'PUT lock 1025');
      });

      it('UNLOCK and REFRESH_LOCK with a 1025-character lock → 400', async () => {
        await refused(400, () => c.unlock(longLock), 'UNLOCK 1025');
        await refused(400, () => c.refreshLock(longLock), 'REFRESH_LOCK 1025');
      });
    });

    describe('malformed name headers', () => {
      for (const bad of BAD_NAME_HEADERS) {
        it(`X-WOPI-SuggestedTarget ${JSON.stringify(bad)} → 400`, async () => {
          await refused(400, () => c.putRelative('body', { 'X-WOPI-SuggestedTarget': bad }), 'SuggestedTarget');
        });
        it(`X-WOPI-RelativeTarget ${JSON.stringify(bad)} → 400`, async () => {
          await refused(400, () => c.putRelative('body', { 'X-WOPI-RelativeTarget': bad }), 'RelativeTarget');
        });
        it(`X-WOPI-RequestedName ${JSON.stringify(bad)} → 400`, async () => {
          await refused(400, () => c.rename(bad, { 'X-WOPI-Lock': LOCK }), 'RequestedName');
        });
      }
    });

    describe('bodies that do not match their declared size', () => {
      it('PUT_RELATIVE with a body shorter than X-WOPI-Size → 400 and no file created', async () => {
        await refused(
          400,
          () => c.putRelative('0123456789', { 'X-WOPI-SuggestedTarget': 'short.docx', 'X-WOPI-Size': '100' }),
          'short PUT_RELATIVE',
        );
        assert.equal(await catalog().findByName('short.docx'), null);
      });

      it('PUT_RELATIVE with a body longer than X-WOPI-Size → 400 and no file created', async () => {
        await refused(
          400,
          () => c.putRelative('0123456789', { 'X-WOPI-RelativeTarget': 'long.docx', 'X-WOPI-Size': '5' }),
          'long PUT_RELATIVE',
        );
        assert.equal(await catalog().findByName('long.docx'), null);
      });

      it('locked PutFile with a body shorter than X-WOPI-Size → 400, content unchanged', async () => {
        await refused(
          400,
          () => c.putFile('0123456789', { 'X-WOPI-Lock': LOCK, 'X-WOPI-Size': '11' }),
          'short PUT with X-WOPI-Size',
        );
      });

      for (const framing of ['content-length', 'chunked'] as const) {
        it(`locked PutFile whose client vanishes mid-body (${framing}) leaves the file unchanged`, async () => {
          const beforeState = await snapshot();
          const head: Record<string, string> = {
            'X-WOPI-Override': 'PUT',
            'X-WOPI-Lock': LOCK,
            'Content-Type': 'application/octet-stream',
          };
          let body = Buffer.from('0123456789');
          if (framing === 'content-length') head['Content-Length'] = '1000';
          else {
            head['Transfer-Encoding'] = 'chunked';
            body = Buffer.from('a\r\n0123456789\r\n'); // one chunk, then no terminating chunk
          }
          await sendTruncated(c.fileUrl('/contents'), head, body);
          // the server noticed: no unfinished upload is left behind
          await waitFor(
            async () => (await readdir(join(host.dataDir, 'blobs', 'tmp'))).length === 0,
            5_000,
            'blobs/tmp to be empty',
          );
          await sleep(200);
          assert.deepEqual(await snapshot(), beforeState);
          await assertStillServing();
          // and the lock still works for a real save afterwards (then put the original back)
          const put = await c.putFile(CONTENT, { 'X-WOPI-Lock': LOCK });
          assert.equal(put.status, 200, put.text);
          assert.equal((await c.content()).toString(), CONTENT);
        });
      }
    });

    describe('tokens', () => {
      const tamper = (token: string, part: 0 | 1 | 2, edit: (segment: string) => string) => {
        const parts = token.split('.');
        parts[part] = edit(parts[part] as string);
        return parts.join('.');
      };

      async function refusedWithToken(token: string, what: string): Promise<void> {
        const forged = new WopiClient(host.url, id, token);
        await refused(401, () => forged.putFile('forged write', { 'X-WOPI-Lock': LOCK }), `${what}: PutFile`);
        await refused(401, () => forged.checkFileInfo(), `${what}: CheckFileInfo`);
        await refused(401, () => forged.getFile(), `${what}: GetFile`);
        await refused(401, () => forged.unlock(LOCK), `${what}: UNLOCK`);
        await refused(401, () => forged.rename('Stolen', { 'X-WOPI-Lock': LOCK }), `${what}: RenameFile`);
      }

      it('a token with an altered signature → 401, nothing changed', async () => {
        const token = await host.token(id);
        const forged = tamper(token, 2, (sig) => {
          const i = 10; // a middle character: all six of its bits are signature bits
          return sig.slice(0, i) + (sig[i] === 'A' ? 'B' : 'A') + sig.slice(i + 1);
        });
        assert.notEqual(forged, token);
        await refusedWithToken(forged, 'altered signature');
      });

      it('a token whose claims were edited (other user, other file) → 401', async () => {
        const token = await host.token(otherId, { userId: 'mallory' });
        const retargeted = tamper(token, 1, (payload) => {
          const claims = JSON.parse(decodeB64Url(payload).toString('utf8'));
          claims.fid = id;
          return encodeB64Url(JSON.stringify(claims));
        });
        await refusedWithToken(retargeted, 'edited fid');
      });

      it('an unsigned token (alg "none") → 401', async () => {
        const token = await host.token(id);
        const header = encodeB64Url(JSON.stringify({ alg: 'none', typ: 'JWT' }));
        const [, payload] = token.split('.');
        await refusedWithToken(`${header}.${payload}.`, 'alg none');
      });

      it('a token signed with another key → 401', async () => {
        const stranger = new TokenService(new TextEncoder().encode('x'.repeat(48)), host.clock);
        const { access_token } = await stranger.mint({
          fileId: id,
          userId: 'alice',
          userName: 'Alice',
          permissions: ALL_PERMISSIONS,
        });
        await refusedWithToken(access_token, 'foreign key');
      });

      it('a token for another file → 401', async () => {
        await refusedWithToken(await host.token(otherId), 'token of another file');
      });

      it('garbage tokens → 401', async () => {
        for (const garbage of ['x', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9..', '%00']) {
          await refusedWithToken(garbage, JSON.stringify(garbage));
        }
      });

      it('an expired token → 401, nothing changed', async () => {
        const token = await host.token(id, { ttlMs: 60_000 });
        const fresh = new WopiClient(host.url, id, token);
        assert.equal((await fresh.checkFileInfo()).status, 200, 'valid before expiry');
        host.clock.advance(61_000);
        await refusedWithToken(token, 'expired');
      });
    });

    describe('malformed headers', () => {
      for (const size of ['abc', '-1', '1e3', '12abc', '0x10', '1.5']) {
        it(`X-WOPI-Size ${JSON.stringify(size)} → 400 (PutFile and PutRelativeFile)`, async () => {
          await refused(400, () => c.putFile('new', { 'X-WOPI-Lock': LOCK, 'X-WOPI-Size': size }), 'PUT');
          await refused(
            400,
            () => c.putRelative('new', { 'X-WOPI-SuggestedTarget': 'sized.docx', 'X-WOPI-Size': size }),
            'PUT_RELATIVE',
          );
        });
      }

      it('X-WOPI-Override garbage → 501 on both endpoints', async () => {
        for (const op of ['GARBAGE', 'lock; DROP TABLE files', 'PUT_RELATIVE_X', '../LOCK']) {
          await refused(501, () => c.override(op, { 'X-WOPI-Lock': LOCK }, 'body'), `files ${op}`);
          await refused(
            501,
            () => c.request('POST', '/contents', { 'X-WOPI-Override': op, 'X-WOPI-Lock': LOCK }, 'b'),
            op,
          );
        }
      });

      it('an override that belongs to the other endpoint → 501', async () => {
        await refused(501, () => c.override('PUT', { 'X-WOPI-Lock': LOCK }, 'overwritten'), 'PUT on /files/id');
        await refused(
          501,
          () => c.request('POST', '/contents', { 'X-WOPI-Override': 'UNLOCK', 'X-WOPI-Lock': LOCK }),
          'UNLOCK on /contents',
        );
      });

      it('a missing X-WOPI-Override → 400', async () => {
        await refused(400, () => c.request('POST', '', { 'X-WOPI-Lock': LOCK }, 'body'), 'no override');
      });
    });
  });
}
