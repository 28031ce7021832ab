import { H } from '../../wopi/headers.ts';
import { ensure, expectLockConflict, expectStatus, header } from '../expect.ts';
import type { Rule } from '../rule.ts';

/**
 * Lock, GetLock, RefreshLock, Unlock and UnlockAndRelock. Every refusal is a 409 that names the file's current lock
 * in X-WOPI-Lock ("" when the file is unlocked): editors read it to tell "someone else holds it" from "nobody does".
 * X-WOPI-LockFailureReason is optional in both the spec pages and Microsoft's reference ("may", for logs only), so
 * no rule demands it; a failing exchange shows it when the host sent one.
 */

const MS = 'Microsoft WOPI REST';
const SPEC_409 = 'ONLYOFFICE WOPI REST API: a 409 always carries X-WOPI-Lock, "" when unlocked';

export const lockRules: Rule[] = [
  {
    id: 'lock.lock-and-unlock',
    statement: 'Lock on an unlocked file answers 200, and Unlock with the same lock answers 200',
    source: `${MS}, Lock and Unlock`,
    needs: ['locks', 'write'],
    async run(ctx) {
      const lock = ctx.unique('lock');
      const locked = await ctx.calls.lock(ctx.file, lock);
      ctx.holding(ctx.file, lock);
      expectStatus(locked, 200, 'Lock');
      expectStatus(await ctx.calls.unlock(ctx.file, lock), 200, 'Unlock with the lock just taken');
    },
  },
  {
    id: 'lock.same-lock-again-200',
    statement: 'Lock with the lock the file already holds answers 200 (it refreshes the lock)',
    source: `${MS}, Lock (the same lock id again is a refresh)`,
    needs: ['locks', 'write'],
    async run(ctx) {
      const lock = ctx.unique('lock');
      await ctx.lock(ctx.file, lock);
      expectStatus(await ctx.calls.lock(ctx.file, lock), 200, 'Lock again with the same lock');
    },
  },
  {
    id: 'lock.mismatch-409',
    statement: 'Lock with another lock on a locked file answers 409 with X-WOPI-Lock = the current lock',
    source: `${MS}, Lock; ${SPEC_409}`,
    needs: ['locks', 'write'],
    async run(ctx) {
      const held = ctx.unique('lock');
      const other = ctx.unique('other-lock');
      await ctx.lock(ctx.file, held);
      const ex = await ctx.calls.lock(ctx.file, other);
      ctx.holding(ctx.file, other);
      expectLockConflict(ex, held, 'Lock with another lock');
    },
  },
  {
    id: 'getlock.returns-lock',
    statement: 'GetLock on a locked file answers 200 with X-WOPI-Lock = the current lock',
    source: `${MS}, GetLock`,
    needs: ['locks', 'getLock', 'write'],
    async run(ctx) {
      const held = ctx.unique('lock');
      await ctx.lock(ctx.file, held);
      const ex = await ctx.calls.getLock(ctx.file);
      expectStatus(ex, 200, 'GetLock');
      ensure(
        header(ex, H.lock) === held,
        `GetLock: ${H.lock} is ${JSON.stringify(header(ex, H.lock))}, not the lock`,
        ex,
      );
    },
  },
  {
    id: 'getlock.unlocked-empty',
    statement: 'GetLock on an unlocked file answers 200 with X-WOPI-Lock present and empty',
    source: `${MS}, GetLock (an unlocked file: the header set to the empty string)`,
    needs: ['locks', 'getLock', 'write'],
    async run(ctx) {
      const ex = await ctx.calls.getLock(ctx.file);
      expectStatus(ex, 200, 'GetLock');
      const value = header(ex, H.lock);
      ensure(value === '', `GetLock: ${H.lock} is ${value === undefined ? 'missing' : JSON.stringify(value)}`, ex);
    },
  },
  {
    id: 'refreshlock.matching-200',
    statement: 'RefreshLock with the current lock answers 200',
    source: `${MS}, RefreshLock`,
    needs: ['locks', 'write'],
    async run(ctx) {
      const held = ctx.unique('lock');
      await ctx.lock(ctx.file, held);
      expectStatus(await ctx.calls.refreshLock(ctx.file, held), 200, 'RefreshLock with the current lock');
    },
  },
  {
    id: 'refreshlock.mismatch-409',
    statement: 'RefreshLock with another lock answers 409 with X-WOPI-Lock = the current lock',
    source: `${MS}, RefreshLock; ${SPEC_409}`,
    needs: ['locks', 'write'],
    async run(ctx) {
      const held = ctx.unique('lock');
      await ctx.lock(ctx.file, held);
      expectLockConflict(await ctx.calls.refreshLock(ctx.file, ctx.unique('other-lock')), held, 'RefreshLock');
    },
  },
  {
    id: 'unlock.mismatch-409',
    statement: 'Unlock with another lock answers 409 with X-WOPI-Lock = the current lock, and the file stays locked',
    source: `${MS}, Unlock; ${SPEC_409}`,
    needs: ['locks', 'write'],
    async run(ctx) {
      const held = ctx.unique('lock');
      await ctx.lock(ctx.file, held);
      expectLockConflict(await ctx.calls.unlock(ctx.file, ctx.unique('other-lock')), held, 'Unlock with another lock');
      expectStatus(await ctx.calls.unlock(ctx.file, held), 200, 'Unlock with the lock, after the refused Unlock');
    },
  },
  {
    id: 'unlock.unlocked-409',
    statement: 'Unlock on an unlocked file answers 409 with X-WOPI-Lock present and empty',
    source: `${MS}, Unlock; ${SPEC_409}`,
    needs: ['locks', 'write'],
    async run(ctx) {
      expectLockConflict(await ctx.calls.unlock(ctx.file, ctx.unique('lock')), '', 'Unlock on an unlocked file');
    },
  },
  {
    id: 'unlock.leaves-unlocked',
    statement: 'After Unlock the file is unlocked: another lock can be taken',
    source: `${MS}, Unlock`,
    needs: ['locks', 'write'],
    async run(ctx) {
      const first = ctx.unique('lock');
      await ctx.lock(ctx.file, first);
      expectStatus(await ctx.calls.unlock(ctx.file, first), 200, 'Unlock');
      const second = ctx.unique('next-lock');
      const ex = await ctx.calls.lock(ctx.file, second);
      ctx.holding(ctx.file, second);
      expectStatus(ex, 200, 'Lock with another lock after Unlock');
    },
  },
  {
    id: 'unlockandrelock.matching-200',
    statement: 'Lock with X-WOPI-OldLock = the current lock answers 200 and replaces the lock',
    source: `${MS}, UnlockAndRelock`,
    needs: ['locks', 'write'],
    async run(ctx) {
      const old = ctx.unique('lock');
      const next = ctx.unique('new-lock');
      await ctx.lock(ctx.file, old);
      const ex = await ctx.calls.lock(ctx.file, next, old);
      ctx.holding(ctx.file, next);
      expectStatus(ex, 200, 'UnlockAndRelock');
      expectStatus(await ctx.calls.unlock(ctx.file, old), 409, 'Unlock with the old lock after UnlockAndRelock');
      expectStatus(await ctx.calls.unlock(ctx.file, next), 200, 'Unlock with the new lock');
    },
  },
  {
    id: 'unlockandrelock.mismatch-409',
    statement:
      'Lock with an X-WOPI-OldLock that is not the current lock answers 409 with X-WOPI-Lock = the current lock',
    source: `${MS}, UnlockAndRelock; ${SPEC_409}`,
    needs: ['locks', 'write'],
    async run(ctx) {
      const held = ctx.unique('lock');
      const next = ctx.unique('new-lock');
      await ctx.lock(ctx.file, held);
      const ex = await ctx.calls.lock(ctx.file, next, ctx.unique('wrong-old-lock'));
      ctx.holding(ctx.file, next);
      expectLockConflict(ex, held, 'UnlockAndRelock with a wrong old lock');
    },
  },
];
