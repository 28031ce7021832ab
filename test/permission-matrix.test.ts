import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { permissionsOf, type Role } from '../src/access/roles.ts';
import type { FileRecord, LockRecord } from '../src/storage/types.ts';
import { apiAs, signIn, startHost, storageKinds, type TestHost, utf7, WopiClient } from './helpers/host.ts';

/**
 * Every WOPI operation for every kind of caller, over real HTTP on both backends: the exact status, and on every
 * refusal, nothing changed (bytes, version, name, lock, the set of files).
 */

type Subject =
  | 'owner'
  | 'editor'
  | 'commenter'
  | 'viewer'
  | 'link editor'
  | 'link viewer'
  | 'anonymous guest'
  | 'revoked'
  | 'no access';

const SUBJECTS: Subject[] = [
  'owner',
  'editor',
  'commenter',
  'viewer',
  'link editor',
  'link viewer',
  'anonymous guest',
  'revoked',
  'no access',
];

/** What each may do: read, write (lock, save), rename, copy (PutRelativeFile), delete; invalid: every call 401. */
const RIGHTS: Record<Subject, { valid: boolean; write: boolean; rename: boolean; copy: boolean; del: boolean }> = {
  owner: { valid: true, write: true, rename: true, copy: true, del: true },
  editor: { valid: true, write: true, rename: true, copy: true, del: false },
  // no comment-only mode in a Quire without a known editor: a commenter reads
  commenter: { valid: true, write: false, rename: false, copy: false, del: false },
  viewer: { valid: true, write: false, rename: false, copy: false, del: false },
  'link editor': { valid: true, write: true, rename: true, copy: false, del: false },
  'link viewer': { valid: true, write: false, rename: false, copy: false, del: false },
  'anonymous guest': { valid: true, write: false, rename: false, copy: false, del: false },
  revoked: { valid: false, write: false, rename: false, copy: false, del: false },
  'no access': { valid: false, write: false, rename: false, copy: false, del: false },
};

interface Seen {
  content: string;
  file: FileRecord | null;
  lock: LockRecord | null;
  files: string[];
}

for (const kind of storageKinds) {
  describe(`the permission matrix: every WOPI operation × every kind of caller [${kind.name}]`, () => {
    let host: TestHost;
    let annId: string;
    let annCookie: string;
    before(async () => {
      host = await startHost({ storageKind: kind });
      const ann = await signIn(host, 'ann');
      annId = ann.user.id;
      annCookie = ann.cookie;
    });
    after(() => host?.close());

    const api = () => apiAs(host, annCookie, { 'Content-Type': 'application/json' });
    const storage = () => host.quire.host.storage;

    /** A user with a sign-in of their own (as the host page's tokens have), and their token for `fileId`. */
    async function userToken(fileId: string, role: Role, name = `u${randomBytes(4).toString('hex')}`) {
      const { user } = await signIn(host, name);
      const signInId = randomBytes(8).toString('hex');
      const now = host.clock.now();
      await storage().access?.startSignIn({
        id: signInId,
        userId: user.id,
        createdAt: now,
        expiresAt: now + 3_600_000,
      });
      const minted = await host.quire.host.tokens.mint({
        fileId,
        userId: user.id,
        userName: user.displayName,
        role,
        permissions: permissionsOf(role),
        signInId,
      });
      return { user, token: minted.access_token };
    }

    async function linkToken(fileId: string, role: 'editor' | 'viewer', anonymous = false) {
      const made = await api()(`/api/files/${fileId}/links`, { method: 'POST', body: JSON.stringify({ role }) });
      assert.equal(made.status, 201, made.text);
      const linkId = (made.json as { id: string }).id;
      const guest = anonymous ? null : await storage().access?.guest(linkId, 'Gina', 'gina', host.clock.now());
      const minted = await host.quire.host.tokens.mint({
        fileId,
        userId: guest?.id ?? `anonymous-${randomBytes(6).toString('hex')}`,
        userName: guest?.name ?? 'Guest',
        role,
        permissions: { ...permissionsOf(role), writeRelative: false, delete: false },
        linkId,
        ...(anonymous && { anonymous: true }),
      });
      return minted.access_token;
    }

    /** A fresh document of ann's and a token for `subject` on it. */
    async function setUp(subject: Subject): Promise<{ fileId: string; token: string }> {
      const fileId = await host.addFile(`${subject} ${randomBytes(3).toString('hex')}.docx`, 'original', annId);
      const shareTo = async (name: string, role: string) => {
        const res = await api()(`/api/files/${fileId}/shares`, {
          method: 'PUT',
          body: JSON.stringify({ user: name, role }),
        });
        assert.equal(res.status, 200, res.text);
      };
      switch (subject) {
        case 'owner': {
          const minted = await host.quire.host.tokens.mint({
            fileId,
            userId: annId,
            userName: 'ann',
            role: 'owner',
            permissions: permissionsOf('owner'),
          });
          return { fileId, token: minted.access_token };
        }
        case 'editor':
        case 'commenter':
        case 'viewer': {
          const name = `u${randomBytes(4).toString('hex')}`;
          await signIn(host, name);
          await shareTo(name, subject);
          return { fileId, token: (await userToken(fileId, subject, name)).token };
        }
        case 'link editor':
          return { fileId, token: await linkToken(fileId, 'editor') };
        case 'link viewer':
          return { fileId, token: await linkToken(fileId, 'viewer') };
        case 'anonymous guest':
          return { fileId, token: await linkToken(fileId, 'viewer', true) };
        case 'revoked': {
          const name = `u${randomBytes(4).toString('hex')}`;
          const { user } = await signIn(host, name);
          await shareTo(name, 'editor');
          const { token } = await userToken(fileId, 'editor', name);
          const removed = await api()(`/api/files/${fileId}/shares/user/${user.id}`, { method: 'DELETE' });
          assert.equal(removed.status, 204);
          host.clock.advance(1001);
          return { fileId, token };
        }
        case 'no access':
          return { fileId, token: (await userToken(fileId, 'viewer')).token };
      }
    }

    async function seen(fileId: string): Promise<Seen> {
      const file = await storage().catalog.getFile(fileId);
      const chunks: Buffer[] = [];
      if (file) for await (const c of storage().blobs.read(file.blobKey)) chunks.push(c as Buffer);
      return {
        content: Buffer.concat(chunks).toString(),
        file,
        lock: await storage().locks.get(fileId, host.clock.now()),
        files: (await storage().catalog.listFiles()).map((f) => f.id).sort(),
      };
    }

    for (const subject of SUBJECTS) {
      it(subject, async () => {
        const rights = RIGHTS[subject];
        const { fileId, token } = await setUp(subject);
        const c = new WopiClient(host.url, fileId, token);
        /** Runs one operation: its status as the matrix says, and nothing changed when refused. */
        const step = async (
          what: string,
          allowed: boolean,
          run: () => Promise<{ status: number; text: string }>,
          deny = 401,
        ) => {
          const before = await seen(fileId);
          const res = await run();
          const expected = !rights.valid ? 401 : allowed ? 200 : deny;
          assert.equal(res.status, expected, `${subject} ${what}: ${res.text}`);
          if (expected !== 200)
            assert.deepEqual(await seen(fileId), before, `${subject} ${what} refused: nothing changed`);
        };
        await step('CheckFileInfo', true, () => c.checkFileInfo());
        await step('GetFile', true, () => c.getFile());
        await step('GetLock', true, () => c.getLock());
        await step('PutUserInfo', true, () => c.putUserInfo('{"theme":"dark"}'));
        await step('Lock', rights.write, () => c.lock('L1'));
        await step('RefreshLock', rights.write, () => c.refreshLock('L1'));
        await step('PutFile', rights.write, () => c.putFile(`saved by ${subject}`, { 'X-WOPI-Lock': 'L1' }));
        await step('UnlockAndRelock', rights.write, () => c.unlockAndRelock('L1', 'L2'));
        await step('RenameFile', rights.rename, () => c.rename(`Renamed by ${subject}`, { 'X-WOPI-Lock': 'L2' }));
        await step('Unlock', rights.write, () => c.unlock('L2'));
        await step(
          'PutRelativeFile',
          rights.copy,
          () => c.putRelative('a copy', { 'X-WOPI-SuggestedTarget': utf7('.docx') }),
          501,
        );
        await step('DeleteFile', rights.del, () => c.deleteFile());
        if (rights.write) {
          const after = await seen(fileId);
          if (after.file) assert.equal(after.content, `saved by ${subject}`, 'the save landed');
        }
        if (subject === 'anonymous guest') {
          const info = (await c.checkFileInfo()).json as Record<string, unknown>;
          assert.equal(info.IsAnonymousUser, true);
        }
      });
    }
  });
}
