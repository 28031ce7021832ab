import type { Grant } from '../auth/tokens.ts';
import type { Clock } from '../core/clock.ts';
import type { Storage } from '../storage/types.ts';
import { apiKeyProblem } from './api-keys.ts';
import { type AccessRules, linkProblem } from './policy.ts';
import { atLeast, rank } from './roles.ts';

/** How long an answer is remembered per token: a revocation reaches every instance within this. */
export const RECHECK_MS = 1000;

/**
 * The check every WOPI request's token passes after its signature and expiry (TokenService's `stillValid`): a token
 * stays valid only while what granted it stands. A token minted through a link needs the link live, for the same
 * file, still giving at least the token's role; a token minted in a sign-in needs that sign-in not ended; one minted
 * for a person (the host page, however they signed in: password, single sign-on, a proxy's header, an embedding
 * app) needs the user not disabled and the access rules still giving at least the token's role; a token minted with a service API key
 * (for one of the integrator's own users) needs that key neither revoked nor expired. Tokens an operator minted
 * directly (CLI, library) carry none of these and are vouched for by whoever minted them.
 *
 * Answers are remembered for one second per grant, so an editor's burst of calls costs one look, and a removed
 * share, disabled link, sign-out or revoked key takes effect within a second on every instance (each asks the shared
 * database).
 */
export function grantCheck(
  storage: Storage,
  policy: AccessRules,
  clock: Clock,
): (grant: Grant) => Promise<string | null> | null {
  const remembered = new WeakMap<Grant, { at: number; answer: Promise<string | null> }>();
  return (grant) => {
    if (
      grant.linkId === undefined &&
      grant.signInId === undefined &&
      grant.apiKeyId === undefined &&
      grant.account !== true
    )
      return null;
    const now = clock.now();
    const hit = remembered.get(grant);
    if (hit && now - hit.at < RECHECK_MS && now >= hit.at) return hit.answer;
    const answer = decide(storage, policy, grant, now).catch((err: unknown) => {
      // a failed look is not remembered: the next call asks again
      remembered.delete(grant);
      throw err;
    });
    remembered.set(grant, { at: now, answer });
    return answer;
  };
}

async function decide(storage: Storage, policy: AccessRules, grant: Grant, now: number): Promise<string | null> {
  if (grant.apiKeyId !== undefined) {
    // the key acts on every document within its scopes, so the key standing is all the token needs
    const key = await storage.apiKeys?.getKey(grant.apiKeyId);
    return key ? apiKeyProblem(key, now) : 'the API key is gone';
  }
  if (grant.linkId !== undefined) {
    const link = await storage.access?.getLink(grant.linkId);
    if (!link || link.fileId !== grant.fileId) return 'the link is gone';
    const problem = linkProblem(link, now);
    if (problem) return problem;
    if (!atLeast(link.role, grant.role)) return 'the link gives less than it did';
    return null;
  }
  if (grant.signInId !== undefined) {
    const signIn = await storage.access?.getSignIn(grant.signInId);
    if (!signIn || signIn.endedAt !== null || signIn.userId !== grant.userId) return 'signed out';
  }
  if (grant.signInId !== undefined || grant.account === true) {
    const user = await storage.users?.findById(grant.userId);
    if (!user || user.disabledAt) return 'the account is disabled';
    const file = await storage.catalog.getFile(grant.fileId);
    // a deleted file answers 404 from the operation itself
    if (!file) return null;
    const access = await policy.accessTo({ kind: 'user', user }, file);
    if (!access || rank(access.role) < rank(grant.role)) return 'access to the document was removed or lowered';
  }
  return null;
}
