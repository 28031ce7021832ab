import { H } from '../../wopi/headers.ts';
import { ensure, expectContent, expectLockConflict, expectStatus, header } from '../expect.ts';
import type { Rule } from '../rule.ts';

/** PutFile, by the rules of the PutFile spec page (it wins over other documents where they differ). */

const SPEC = 'ONLYOFFICE WOPI REST API, PutFile';
const NEEDS = ['update', 'write', 'locks'] as const;

export const putFileRules: Rule[] = [
  {
    id: 'putfile.locked-matching-200',
    statement: 'PutFile with the current lock answers 200, and GetFile then returns the new bytes',
    source: `${SPEC} (a locked file takes a save carrying its lock)`,
    needs: NEEDS,
    async run(ctx) {
      const lock = ctx.unique('lock');
      const bytes = ctx.content('locked-save');
      await ctx.lock(ctx.file, lock);
      expectStatus(await ctx.calls.putFile(ctx.file, bytes, lock), 200, 'PutFile with the current lock');
      expectContent(await ctx.calls.getFile(ctx.file), bytes, 'GetFile after the save');
    },
  },
  {
    id: 'putfile.version-changes',
    statement: "A save changes CheckFileInfo's Version; PutFile's X-WOPI-ItemVersion, when sent, is the new Version",
    source: 'Microsoft WOPI REST, CheckFileInfo (Version changes with the file) and PutFile (X-WOPI-ItemVersion)',
    needs: NEEDS,
    async run(ctx) {
      const before = String((await ctx.fileInfo()).info.Version);
      const lock = ctx.unique('lock');
      await ctx.lock(ctx.file, lock);
      const saved = await ctx.calls.putFile(ctx.file, ctx.content('versioned-save'), lock);
      expectStatus(saved, 200, 'PutFile with the current lock');
      const { ex, info } = await ctx.fileInfo();
      const after = String(info.Version);
      ensure(after !== before, `Version is ${JSON.stringify(after)} before and after the save`, ex);
      const itemVersion = header(saved, H.itemVersion);
      ensure(
        itemVersion === undefined || itemVersion === after,
        `PutFile's ${H.itemVersion} is ${JSON.stringify(itemVersion)}, CheckFileInfo's Version then ${JSON.stringify(after)}`,
        saved,
      );
    },
  },
  {
    id: 'putfile.locked-mismatch-409',
    statement: 'PutFile with another lock answers 409 with X-WOPI-Lock = the current lock, and changes nothing',
    source: `${SPEC}, step 2 (lock mismatch)`,
    needs: NEEDS,
    async run(ctx) {
      const held = ctx.unique('lock');
      await ctx.lock(ctx.file, held);
      const before = await ctx.read();
      const ex = await ctx.calls.putFile(ctx.file, ctx.content('refused-save'), ctx.unique('other-lock'));
      expectLockConflict(ex, held, 'PutFile with another lock');
      expectContent(await ctx.calls.getFile(ctx.file), before, 'GetFile after the refused save');
    },
  },
  {
    id: 'putfile.locked-without-lock-409',
    statement: 'PutFile without X-WOPI-Lock on a locked file answers 409 with X-WOPI-Lock = the current lock',
    source: `${SPEC}, step 2 (a missing lock does not match)`,
    needs: NEEDS,
    async run(ctx) {
      const held = ctx.unique('lock');
      await ctx.lock(ctx.file, held);
      const before = await ctx.read();
      const ex = await ctx.calls.putFile(ctx.file, ctx.content('refused-save'));
      expectLockConflict(ex, held, 'PutFile without a lock on a locked file');
      expectContent(await ctx.calls.getFile(ctx.file), before, 'GetFile after the refused save');
    },
  },
  {
    id: 'putfile.unlocked-nonempty-409',
    statement:
      'PutFile without a lock on an unlocked file that is not empty answers 409 (X-WOPI-Lock "") and changes nothing',
    source: `${SPEC}, step 3 (unlocked, not 0 bytes: 409)`,
    needs: NEEDS,
    async run(ctx) {
      const before = ctx.content('non-empty');
      await ctx.setContent(before);
      const ex = await ctx.calls.putFile(ctx.file, ctx.content('refused-save'));
      expectLockConflict(ex, '', 'PutFile without a lock on an unlocked, non-empty file');
      expectContent(await ctx.calls.getFile(ctx.file), before, 'GetFile after the refused save');
    },
  },
  {
    id: 'putfile.unlocked-empty-200',
    statement: 'PutFile without a lock on an unlocked file of 0 bytes answers 200 and stores the bytes',
    source: `${SPEC}, step 3 (unlocked and 0 bytes: the save proceeds)`,
    needs: NEEDS,
    async run(ctx) {
      await ctx.setContent(Buffer.alloc(0));
      const bytes = ctx.content('first-save');
      expectStatus(await ctx.calls.putFile(ctx.file, bytes), 200, 'PutFile without a lock on an empty, unlocked file');
      expectContent(await ctx.calls.getFile(ctx.file), bytes, 'GetFile after the save');
    },
  },
];
