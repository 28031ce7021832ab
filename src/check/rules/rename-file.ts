import { H } from '../../wopi/headers.ts';
import { ensure, expectLockConflict, expectStatus, header, jsonBody } from '../expect.ts';
import type { Exchange } from '../http.ts';
import type { CheckContext, Rule } from '../rule.ts';

/**
 * RenameFile, on the file under test (the runner gives it its name back at the end). X-WOPI-RequestedName carries
 * no extension; the answer's Name carries none either, and the extension stays.
 */

const MS = 'Microsoft WOPI REST, RenameFile';
const NEEDS = ['rename'] as const;

/** A 200 whose Name is `requested`, after which CheckFileInfo's BaseFileName is that name with the old extension. */
async function expectRenamed(ctx: CheckContext, ex: Exchange, requested: string, what: string): Promise<void> {
  expectStatus(ex, 200, what);
  const name = jsonBody(ex, what).Name;
  ensure(name === requested, `${what}: Name is ${JSON.stringify(name)}, not ${JSON.stringify(requested)}`, ex);
  const { ex: infoEx, info } = await ctx.fileInfo();
  const expected = requested + ctx.extension;
  ensure(
    info.BaseFileName === expected,
    `after ${what}, BaseFileName is ${JSON.stringify(info.BaseFileName)}, not ${JSON.stringify(expected)}`,
    infoEx,
  );
}

export const renameFileRules: Rule[] = [
  {
    id: 'rename.unlocked-200',
    statement: 'RenameFile on an unlocked file answers 200 with the new Name and keeps the extension',
    source: `${MS}; ONLYOFFICE WOPI REST API, RenameFile`,
    needs: NEEDS,
    async run(ctx) {
      const requested = ctx.unique('renamed');
      await expectRenamed(ctx, await ctx.calls.renameFile(ctx.file, requested), requested, 'RenameFile');
    },
  },
  {
    id: 'rename.locked-matching-200',
    statement: 'RenameFile with the current lock answers 200',
    source: MS,
    needs: [...NEEDS, 'locks', 'write'],
    async run(ctx) {
      const lock = ctx.unique('lock');
      await ctx.lock(ctx.file, lock);
      const requested = ctx.unique('renamed-locked');
      const ex = await ctx.calls.renameFile(ctx.file, requested, lock);
      await expectRenamed(ctx, ex, requested, 'RenameFile with the current lock');
    },
  },
  {
    id: 'rename.locked-mismatch-409',
    statement: 'RenameFile with another lock answers 409 with X-WOPI-Lock = the current lock, and the name stays',
    source: `${MS} (lock mismatch)`,
    needs: [...NEEDS, 'locks', 'write'],
    async run(ctx) {
      const held = ctx.unique('lock');
      await ctx.lock(ctx.file, held);
      const before = (await ctx.fileInfo()).info.BaseFileName;
      const ex = await ctx.calls.renameFile(ctx.file, ctx.unique('not-renamed'), ctx.unique('other-lock'));
      expectLockConflict(ex, held, 'RenameFile with another lock');
      const { ex: infoEx, info } = await ctx.fileInfo();
      ensure(info.BaseFileName === before, `the refused rename still renamed the file to ${info.BaseFileName}`, infoEx);
    },
  },
  {
    id: 'rename.invalid-name-400',
    statement:
      'RenameFile to an illegal name answers 400 with X-WOPI-InvalidFileNameError (or 200 with a legal name the host made of it)',
    source: `${MS} (400 and X-WOPI-InvalidFileNameError when no legal name can be made)`,
    needs: NEEDS,
    async run(ctx) {
      const requested = `${ctx.unique('illegal')}/a\\b<c>|d`;
      const ex = await ctx.calls.renameFile(ctx.file, requested);
      expectStatus(ex, [400, 200], 'RenameFile to an illegal name');
      if (ex.response.status === 400) {
        const reason = header(ex, H.invalidFileNameError);
        ensure(reason !== undefined && reason !== '', `the 400 carries no ${H.invalidFileNameError}`, ex);
        return;
      }
      const name = jsonBody(ex, 'RenameFile').Name;
      ensure(
        typeof name === 'string' && name !== '' && !/[/\\]/.test(name),
        `the host accepted the illegal name and answered Name ${JSON.stringify(name)}`,
        ex,
      );
    },
  },
  {
    id: 'rename.utf7-name',
    statement: 'A UTF-7 encoded X-WOPI-RequestedName with non-ASCII characters round-trips into Name and BaseFileName',
    source: `${MS} (X-WOPI-RequestedName is UTF-7)`,
    needs: NEEDS,
    async run(ctx) {
      const requested = `${ctx.unique('unicode')} Ünïcödé – 報告 ✓`;
      const ex = await ctx.calls.renameFile(ctx.file, requested);
      await expectRenamed(ctx, ex, requested, 'RenameFile to a UTF-7 name');
    },
  },
];
