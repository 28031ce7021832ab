import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { ALL_PERMISSIONS, DEFAULT_TOKEN_TTL_MS, InvalidTokenError, TokenService } from '../src/auth/tokens.ts';
import { ManualClock } from '../src/core/clock.ts';
import { startHost, storageKinds, type TestHost, WopiClient } from './helpers/host.ts';
import { lockOf } from './helpers/misc-helpers.ts';

/** A token of the same shape Quire mints (HS256, fid/name/perm, sub, aud), signed with `secret`. */
async function handMadeToken(secret: Uint8Array, fileId: string, nowMs: number): Promise<string> {
  return new SignJWT({ fid: fileId, name: 'Mallory', perm: 'wndr' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('mallory')
    .setIssuedAt(Math.floor(nowMs / 1000))
    .setExpirationTime(Math.floor(nowMs / 1000) + 3600)
    .setAudience('quire-wopi')
    .sign(secret);
}

for (const kind of storageKinds) {
  describe(`access tokens [${kind.name}]`, () => {
    const secret = new TextEncoder().encode(randomBytes(48).toString('base64url'));
    let host: TestHost;
    before(async () => {
      host = await startHost({ storageKind: kind, secret });
    });
    after(() => host.close());

    /** Moves the test clock to the next whole second, so expiry tests do not depend on earlier tests' advances. */
    const alignClockToSecond = () => {
      const ms = host.clock.now() % 1000;
      if (ms !== 0) host.clock.advance(1000 - ms);
    };

    const checkFileInfoUrl = (fileId: string) => `${host.url}/wopi/files/${encodeURIComponent(fileId)}`;

    it('answers 401 to a request without a token (CheckFileInfo, GetFile, Lock)', async () => {
      const id = await host.addFile('No Token.docx', 'x');
      assert.equal((await fetch(checkFileInfoUrl(id))).status, 401);
      assert.equal((await fetch(`${checkFileInfoUrl(id)}/contents`)).status, 401);
      const lock = await fetch(checkFileInfoUrl(id), {
        method: 'POST',
        headers: { 'X-WOPI-Override': 'LOCK', 'X-WOPI-Lock': 'L' },
      });
      assert.equal(lock.status, 401);
      assert.equal(lockOf(await (await host.client(id)).getLock()), '');
    });

    it('answers 401 to a garbage token', async () => {
      const id = await host.addFile('Garbage Token.docx', 'x');
      for (const garbage of ['garbage', 'a.b.c', 'eyJhbGciOiJIUzI1NiJ9.e30.AAAA']) {
        const c = new WopiClient(host.url, id, garbage);
        const res = await c.checkFileInfo();
        assert.equal(res.status, 401, `token ${garbage}: ${res.status} ${res.text}`);
      }
    });

    it('accepts a hand-made token signed with the host secret (control for the next test)', async () => {
      const id = await host.addFile('Hand Made.docx', 'x');
      const c = new WopiClient(host.url, id, await handMadeToken(secret, id, host.clock.now()));
      const res = await c.checkFileInfo();
      assert.equal(res.status, 200, res.text);
      assert.equal(res.json.UserId, 'mallory');
    });

    it('answers 401 to a token of the same shape signed with another secret', async () => {
      const id = await host.addFile('Other Secret.docx', 'x');
      const otherSecret = new TextEncoder().encode(randomBytes(48).toString('base64url'));
      const c = new WopiClient(host.url, id, await handMadeToken(otherSecret, id, host.clock.now()));
      assert.equal((await c.checkFileInfo()).status, 401);
      assert.equal((await c.lock('L')).status, 401);
      assert.equal(lockOf(await (await host.client(id)).getLock()), '');
    });

    it('answers 401 to a minted token whose signature has one character changed', async () => {
      const id = await host.addFile('Flipped Signature.docx', 'x');
      const token = await host.token(id);
      const [header, payload, signature] = token.split('.') as [string, string, string];
      // change the first signature character (the last one may only carry padding bits)
      const flipped = `${header}.${payload}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
      assert.notEqual(flipped, token);
      assert.equal((await new WopiClient(host.url, id, token).checkFileInfo()).status, 200);
      assert.equal((await new WopiClient(host.url, id, flipped).checkFileInfo()).status, 401);
    });

    it('answers 401 to a token for file A used on file B, and B stays unchanged', async () => {
      const a = await host.addFile('Scope A.docx', 'a');
      const b = await host.addFile('Scope B.docx'); // empty: a PutFile without lock would be allowed
      const tokenA = await host.token(a);
      const wrong = new WopiClient(host.url, b, tokenA);
      assert.equal((await wrong.checkFileInfo()).status, 401);
      assert.equal((await wrong.getFile()).status, 401);
      assert.equal((await wrong.putFile('overwritten')).status, 401);
      assert.equal((await wrong.lock('L')).status, 401);
      assert.equal((await wrong.rename('Hijacked')).status, 401);
      assert.equal((await wrong.deleteFile()).status, 401);
      const own = await host.client(b);
      const info = await own.checkFileInfo();
      assert.equal(info.status, 200);
      assert.equal(info.json.BaseFileName, 'Scope B.docx');
      assert.equal(info.json.Size, 0);
      assert.equal((await own.content()).length, 0);
      assert.equal(lockOf(await own.getLock()), '');
    });

    it('answers 401 once the token has expired (ttlMs, then the clock moves past it)', async () => {
      const id = await host.addFile('Expiring.docx', 'x');
      alignClockToSecond();
      const token = await host.token(id, { ttlMs: 60_000 });
      const c = new WopiClient(host.url, id, token);
      host.clock.advance(59_000);
      assert.equal((await c.checkFileInfo()).status, 200, 'still valid before its expiry');
      host.clock.advance(1_001);
      assert.equal((await c.checkFileInfo()).status, 401);
      assert.equal((await c.getFile()).status, 401);
    });

    it('refuses a token from the millisecond access_token_ttl names, also for a ttl that is not whole seconds', async () => {
      const id = await host.addFile('Expiring Subsecond.docx', 'x');
      alignClockToSecond(); // the expiry then falls at .500 of a second
      const mintedAt = host.clock.now();
      const minted = await host.quire.mintToken({ fileId: id, userId: 'alice', ttlMs: 1_500 });
      assert.equal(minted.access_token_ttl, mintedAt + 1_500);
      const c = new WopiClient(host.url, id, minted.access_token);
      host.clock.advance(1_499);
      assert.equal((await c.checkFileInfo()).status, 200, 'valid 1 ms before access_token_ttl');
      host.clock.advance(1);
      assert.equal(host.clock.now(), minted.access_token_ttl);
      assert.equal((await c.checkFileInfo()).status, 401, 'refused at access_token_ttl');
      host.clock.advance(200);
      assert.equal((await c.checkFileInfo()).status, 401, 'refused 200 ms after access_token_ttl');
    });

    it('takes `Authorization: Bearer <token>` when there is no access_token query parameter', async () => {
      const id = await host.addFile('Bearer.docx', 'bearer content');
      const token = await host.token(id, { userId: 'bearer-user' });
      const info = await fetch(checkFileInfoUrl(id), { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(info.status, 200);
      assert.equal(((await info.json()) as { UserId: string }).UserId, 'bearer-user');
      const content = await fetch(`${checkFileInfoUrl(id)}/contents`, {
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.equal(content.status, 200);
      assert.equal(await content.text(), 'bearer content');
      const bad = await fetch(checkFileInfoUrl(id), { headers: { Authorization: 'Bearer not-a-token' } });
      assert.equal(bad.status, 401);
    });

    it('answers 404 for an unknown file id with a token minted for that id', async () => {
      const ghost = 'f'.repeat(24);
      const c = await host.client(ghost);
      assert.equal((await c.checkFileInfo()).status, 404);
      assert.equal((await c.getFile()).status, 404);
      assert.equal((await c.getLock()).status, 404);
      assert.equal((await c.lock('L')).status, 404);
      assert.equal((await c.putFile('x')).status, 404);
    });

    it('answers 404 for a deleted file with a token minted for it', async () => {
      const id = await host.addFile('Deleted For Token.docx', 'x');
      const c = await host.client(id);
      assert.equal((await c.deleteFile()).status, 200);
      assert.equal((await c.checkFileInfo()).status, 404);
      assert.equal((await c.getFile()).status, 404);
      assert.equal((await c.lock('L')).status, 404);
    });

    it('mintToken returns access_token_ttl = now + ttl in epoch milliseconds (test clock)', async () => {
      const id = await host.addFile('Ttl.docx', 'x');
      const now = host.clock.now();
      const custom = await host.quire.mintToken({ fileId: id, userId: 'alice', ttlMs: 90_000 });
      assert.equal(custom.access_token_ttl, now + 90_000);
      const byDefault = await host.quire.mintToken({ fileId: id, userId: 'alice' });
      assert.equal(byDefault.access_token_ttl, now + DEFAULT_TOKEN_TTL_MS);
      assert.equal(DEFAULT_TOKEN_TTL_MS, 10 * 60 * 60 * 1000);
      assert.equal((await new WopiClient(host.url, id, custom.access_token).checkFileInfo()).status, 200);
    });
  });
}

describe('remembered (cached) access tokens', () => {
  const secret = new TextEncoder().encode(randomBytes(48).toString('base64url'));
  const grant = { fileId: 'f1', userId: 'alice', userName: 'Alice', permissions: ALL_PERMISSIONS };

  it('refuses a token used after its expiry even though its signature check was remembered', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const tokens = new TokenService(secret, clock);
    const { access_token } = await tokens.mint({ ...grant, ttlMs: 60_000 });
    assert.equal((await tokens.verify(access_token)).userId, 'alice');
    clock.advance(59_999);
    assert.equal((await tokens.verify(access_token)).userId, 'alice', 'remembered and still valid');
    clock.advance(1);
    await assert.rejects(tokens.verify(access_token), InvalidTokenError);
    await assert.rejects(tokens.verify(access_token), InvalidTokenError, 'and stays refused');
  });

  it('asks the revocation check on every use, remembered or not', async () => {
    const revoked = new Set<string>();
    const tokens = new TokenService(secret, new ManualClock(), {
      stillValid: async (g) => (revoked.has(g.userId) ? 'revoked' : null),
    });
    const { access_token } = await tokens.mint(grant);
    await tokens.verify(access_token);
    revoked.add('alice');
    await assert.rejects(tokens.verify(access_token), /revoked/);
    revoked.delete('alice');
    assert.equal((await tokens.verify(access_token)).userId, 'alice');
  });

  it('checks the signature of every distinct token: a tampered copy of a remembered one is refused', async () => {
    const tokens = new TokenService(secret, new ManualClock());
    const { access_token } = await tokens.mint(grant);
    await tokens.verify(access_token);
    const [head, payload, signature] = access_token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BA' : 'AA'}`;
    await assert.rejects(tokens.verify(`${head}.${payload}.${flipped}`), InvalidTokenError);
    const otherPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'mallory' }),
    ).toString('base64url');
    await assert.rejects(tokens.verify(`${head}.${otherPayload}.${signature}`), InvalidTokenError);
  });

  it('stays correct when more tokens are in use than it remembers', async () => {
    const tokens = new TokenService(secret, new ManualClock(), { cacheSize: 2 });
    const minted = await Promise.all(['a', 'b', 'c', 'd'].map((userId) => tokens.mint({ ...grant, userId })));
    for (let round = 0; round < 3; round++) {
      for (const [i, m] of minted.entries()) assert.equal((await tokens.verify(m.access_token)).userId, 'abcd'[i]);
    }
  });
});
