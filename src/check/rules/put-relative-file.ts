import { H } from '../../wopi/headers.ts';
import { decodeNameHeader } from '../../wopi/name-header.ts';
import type { FileHandle } from '../client.ts';
import { ensure, expectContent, expectLockConflict, expectStatus, header, jsonBody, RuleFailure } from '../expect.ts';
import type { Exchange } from '../http.ts';
import type { CheckContext, Rule } from '../rule.ts';

/**
 * PutRelativeFile, by the PutRelativeFile spec page and Microsoft's reference for what the page leaves out
 * (specific mode: X-WOPI-RelativeTarget, overwriting). Every file made here is deleted at the end.
 */

const SPEC = 'ONLYOFFICE WOPI REST API, PutRelativeFile';
const MS = 'Microsoft WOPI REST, PutRelativeFile';
const NEEDS = ['update', 'writeRelative'] as const;

/**
 * A 200 that made a file: Name (exactly `exactName` when given) and an absolute Url with an access token, which
 * answers CheckFileInfo with that BaseFileName and GetFile with the bytes sent.
 */
async function expectCreated(
  ctx: CheckContext,
  ex: Exchange,
  bytes: Buffer,
  what: string,
  exactName?: string,
): Promise<{ file: FileHandle; name: string }> {
  expectStatus(ex, 200, what);
  const file = ctx.recordCreated(ex);
  const body = jsonBody(ex, what);
  ensure(typeof body.Name === 'string' && body.Name !== '', `${what}: Name is missing or empty`, ex);
  ensure(
    file !== null,
    `${what}: Url ${typeof body.Url === 'string' ? 'is not an absolute URL with an access_token' : 'is missing'}`,
    ex,
  );
  const name = body.Name;
  if (exactName !== undefined) {
    ensure(name === exactName, `${what}: Name is ${JSON.stringify(name)}, not ${JSON.stringify(exactName)}`, ex);
  }
  const info = await ctx.calls.checkFileInfo(file);
  expectStatus(info, 200, `CheckFileInfo of the new file (its Url)`);
  const baseFileName = jsonBody(info, 'CheckFileInfo of the new file').BaseFileName;
  ensure(
    baseFileName === name,
    `the new file's BaseFileName is ${JSON.stringify(baseFileName)}, the answer's Name ${JSON.stringify(name)}`,
    info,
  );
  expectContent(await ctx.calls.getFile(file), bytes, 'GetFile of the new file');
  return { file, name };
}

/** A file with exactly `name`, made as a setup step. */
async function createExact(ctx: CheckContext, name: string, bytes: Buffer): Promise<FileHandle> {
  const ex = await ctx.calls.putRelativeFile(ctx.file, bytes, { relative: name });
  const file = ctx.recordCreated(ex);
  ensure(
    ex.response.status === 200 && file !== null,
    `setup step failed, PutRelativeFile making ${JSON.stringify(name)}: expected 200 with a Url, got ${ex.response.status}`,
    ex,
  );
  return file;
}

export const putRelativeFileRules: Rule[] = [
  {
    id: 'putrelative.suggested-name',
    statement: 'X-WOPI-SuggestedTarget with a full name answers 200 with Name (same extension) and a working Url',
    source: `${SPEC}, step 3 and response body (Name, Url)`,
    needs: NEEDS,
    async run(ctx) {
      const wanted = `${ctx.unique('suggested')}${ctx.extension}`;
      const bytes = ctx.content('suggested');
      const ex = await ctx.calls.putRelativeFile(ctx.file, bytes, { suggested: wanted });
      const { name } = await expectCreated(ctx, ex, bytes, 'PutRelativeFile (suggested name)');
      ensure(name.endsWith(ctx.extension), `Name ${JSON.stringify(name)} lost the extension ${ctx.extension}`, ex);
    },
  },
  {
    id: 'putrelative.suggested-extension-no-clobber',
    statement:
      'X-WOPI-SuggestedTarget with only an extension names the file after the source, never overwriting it (the source keeps its bytes)',
    source: `${SPEC}, steps 3 and 4`,
    needs: NEEDS,
    async run(ctx) {
      const ext = ctx.extension || '.wopitest';
      const { info } = await ctx.fileInfo();
      const sourceBefore = await ctx.read();
      const bytes = ctx.content('suggested-extension');
      const ex = await ctx.calls.putRelativeFile(ctx.file, bytes, { suggested: ext });
      const { name } = await expectCreated(ctx, ex, bytes, 'PutRelativeFile (suggested extension)');
      ensure(name.endsWith(ext), `Name ${JSON.stringify(name)} does not end with ${ext}`, ex);
      ensure(name !== info.BaseFileName, `Name is the source's own name ${JSON.stringify(name)}`, ex);
      expectContent(await ctx.calls.getFile(ctx.file), sourceBefore, 'GetFile of the source afterwards');
    },
  },
  {
    id: 'putrelative.relative-exact',
    statement: 'X-WOPI-RelativeTarget answers 200 with exactly that Name and a working Url',
    source: `${MS} (specific mode: the name is not changed)`,
    needs: NEEDS,
    async run(ctx) {
      const wanted = `${ctx.unique('relative')}${ctx.extension}`;
      const bytes = ctx.content('relative');
      const ex = await ctx.calls.putRelativeFile(ctx.file, bytes, { relative: wanted });
      await expectCreated(ctx, ex, bytes, 'PutRelativeFile (relative target)', wanted);
    },
  },
  {
    id: 'putrelative.utf7-name',
    statement:
      'A UTF-7 encoded X-WOPI-RelativeTarget with non-ASCII characters round-trips: Name and BaseFileName are the decoded name',
    source: `${SPEC} (X-WOPI-SuggestedTarget is UTF-7); ${MS}`,
    needs: NEEDS,
    async run(ctx) {
      const wanted = `${ctx.unique('unicode')} Ünïcödé – 報告 ✓${ctx.extension}`;
      const bytes = ctx.content('unicode');
      const ex = await ctx.calls.putRelativeFile(ctx.file, bytes, { relative: wanted });
      await expectCreated(ctx, ex, bytes, 'PutRelativeFile (UTF-7 name)', wanted);
    },
  },
  {
    id: 'putrelative.relative-taken-409',
    statement:
      'X-WOPI-RelativeTarget naming an existing file, without overwrite, answers 409 with X-WOPI-ValidRelativeTarget and changes nothing',
    source: `${MS} (X-WOPI-RelativeTarget, X-WOPI-ValidRelativeTarget)`,
    needs: NEEDS,
    async run(ctx) {
      const name = `${ctx.unique('taken')}${ctx.extension}`;
      const first = ctx.content('taken');
      const existing = await createExact(ctx, name, first);
      for (const overwrite of [undefined, false]) {
        const what = `PutRelativeFile onto an existing name${overwrite === false ? ` (${H.overwriteRelativeTarget}: false)` : ''}`;
        const ex = await ctx.calls.putRelativeFile(ctx.file, ctx.content('not-written'), { relative: name, overwrite });
        ctx.recordCreated(ex);
        expectStatus(ex, 409, what);
        const valid = header(ex, H.validRelativeTarget);
        ensure(valid !== undefined && valid !== '', `${what}: no ${H.validRelativeTarget} in the 409`, ex);
        let decoded: string;
        try {
          decoded = decodeNameHeader(valid);
        } catch {
          throw new RuleFailure(`${what}: ${H.validRelativeTarget} ${JSON.stringify(valid)} is not valid UTF-7`, ex);
        }
        ensure(decoded !== name, `${what}: ${H.validRelativeTarget} suggests the taken name itself`, ex);
      }
      expectContent(await ctx.calls.getFile(existing), first, 'GetFile of the existing file afterwards');
    },
  },
  {
    id: 'putrelative.overwrite-200',
    statement:
      'X-WOPI-RelativeTarget naming an unlocked existing file with X-WOPI-OverwriteRelativeTarget: true replaces it',
    source: `${MS} (X-WOPI-OverwriteRelativeTarget)`,
    needs: NEEDS,
    async run(ctx) {
      const name = `${ctx.unique('overwritten')}${ctx.extension}`;
      await createExact(ctx, name, ctx.content('old'));
      const bytes = ctx.content('new');
      const ex = await ctx.calls.putRelativeFile(ctx.file, bytes, { relative: name, overwrite: true });
      await expectCreated(ctx, ex, bytes, 'PutRelativeFile overwriting an unlocked file', name);
    },
  },
  {
    id: 'putrelative.overwrite-locked-409',
    statement:
      'Overwriting a locked file with PutRelativeFile answers 409 with X-WOPI-Lock = its lock, and changes nothing',
    source: `${MS} (a locked target is never overwritten)`,
    needs: [...NEEDS, 'locks'],
    async run(ctx) {
      const name = `${ctx.unique('locked-target')}${ctx.extension}`;
      const first = ctx.content('locked-target');
      const target = await createExact(ctx, name, first);
      const lock = ctx.unique('target-lock');
      await ctx.lock(target, lock, 'Lock on the target');
      const ex = await ctx.calls.putRelativeFile(ctx.file, ctx.content('not-written'), {
        relative: name,
        overwrite: true,
      });
      ctx.recordCreated(ex);
      expectLockConflict(ex, lock, 'PutRelativeFile overwriting a locked file');
      expectContent(await ctx.calls.getFile(target), first, 'GetFile of the locked target afterwards');
    },
  },
  {
    id: 'putrelative.conflicting-headers',
    statement: 'X-WOPI-SuggestedTarget and X-WOPI-RelativeTarget together answer 400 or 501',
    source: `${MS} (the two headers are mutually exclusive)`,
    needs: NEEDS,
    async run(ctx) {
      const name = `${ctx.unique('both')}${ctx.extension}`;
      const ex = await ctx.calls.putRelativeFile(ctx.file, ctx.content('both'), { suggested: name, relative: name });
      ctx.recordCreated(ex);
      expectStatus(ex, [400, 501], 'PutRelativeFile with both headers');
    },
  },
  {
    id: 'putrelative.source-locked-mismatch-409',
    statement:
      "PutRelativeFile carrying a lock other than the source's answers 409 with X-WOPI-Lock = the source's lock",
    source: `${SPEC}, step 2 (lock mismatch)`,
    needs: [...NEEDS, 'locks', 'write'],
    async run(ctx) {
      const held = ctx.unique('lock');
      await ctx.lock(ctx.file, held);
      const ex = await ctx.calls.putRelativeFile(ctx.file, ctx.content('mismatch'), {
        suggested: `${ctx.unique('mismatch')}${ctx.extension}`,
        lock: ctx.unique('other-lock'),
      });
      ctx.recordCreated(ex);
      expectLockConflict(ex, held, 'PutRelativeFile with another lock');
    },
  },
  {
    id: 'putrelative.source-locked-without-lock-200',
    statement: 'PutRelativeFile without X-WOPI-Lock succeeds while the source is locked (Save Copy As)',
    source: `${MS} (the operation carries no lock); ONLYOFFICE Docs' Save Copy As sends none while it holds the lock`,
    needs: [...NEEDS, 'locks', 'write'],
    async run(ctx) {
      await ctx.lock(ctx.file, ctx.unique('lock'));
      const bytes = ctx.content('copy');
      const ex = await ctx.calls.putRelativeFile(ctx.file, bytes, {
        suggested: `${ctx.unique('copy')}${ctx.extension}`,
      });
      await expectCreated(ctx, ex, bytes, 'PutRelativeFile without a lock on a locked source');
    },
  },
];
