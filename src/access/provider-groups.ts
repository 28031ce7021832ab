import { nameKey } from '../storage/name-key.ts';
import { type AccessStore, type Group, GroupExistsError } from '../storage/types.ts';

/**
 * Groups an identity provider names at sign-in (its groups claim), kept in step with Quire's: each named group is
 * created (source 'provider') when missing, the user is made a member of each, and is taken out of the provider
 * groups the claim no longer names. Groups managed in Quire (source 'local') are never joined, left or created here,
 * even when the provider names one: a provider must not be able to put people into a group an admin keeps.
 */

/** A claim naming more groups than this is cut to its first ones (and the rest reported as skipped). */
export const MAX_PROVIDER_GROUPS = 500;
export const MAX_GROUP_NAME_LENGTH = 128;

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u;

export interface GroupClaim {
  /** The usable names, as they will be stored (NFC, trimmed), one per name key, in the claim's order. */
  names: string[];
  /** What was left out, and why. */
  skipped: Array<{ name: string; reason: string }>;
}

/**
 * The group names in a claim's value: an array of strings (the usual form) or one string. Anything else names no
 * group. Names are trimmed and normalized; empty, over-long or control-character names are skipped, and so are
 * repeats (compared without case).
 */
export function groupNamesFromClaim(value: unknown): GroupClaim {
  const raw = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  const names: string[] = [];
  const skipped: GroupClaim['skipped'] = [];
  const seen = new Set<string>();
  for (const item of raw) {
    if (typeof item !== 'string') {
      skipped.push({ name: String(JSON.stringify(item)).slice(0, 64), reason: 'not a string' });
      continue;
    }
    const name = item.normalize('NFC').trim();
    const problem =
      name.length === 0
        ? 'empty'
        : [...name].length > MAX_GROUP_NAME_LENGTH
          ? `longer than ${MAX_GROUP_NAME_LENGTH} characters`
          : CONTROL.test(name)
            ? 'contains control characters'
            : null;
    if (problem) {
      skipped.push({ name: name.slice(0, 64), reason: problem });
      continue;
    }
    const key = nameKey(name);
    if (seen.has(key)) continue;
    if (names.length >= MAX_PROVIDER_GROUPS) {
      skipped.push({ name, reason: `more than ${MAX_PROVIDER_GROUPS} groups` });
      continue;
    }
    seen.add(key);
    names.push(name);
  }
  return { names, skipped };
}

export interface ProviderGroupSync {
  /** Provider groups that did not exist yet. */
  created: string[];
  /** Groups the user was not a member of before. */
  joined: string[];
  /** Provider groups the user was taken out of. */
  left: string[];
  /** Names left alone: a group Quire manages itself has that name. */
  local: string[];
}

type GroupStore = Pick<AccessStore, 'createGroup' | 'findGroup' | 'addMember' | 'removeMember' | 'groupsOf'>;

/** The provider group by this name, created when missing; null when the name belongs to a local group. */
async function providerGroup(
  store: GroupStore,
  name: string,
  now: number,
): Promise<{ group: Group; created: boolean } | null> {
  const key = nameKey(name);
  const found = await store.findGroup(key);
  if (found) return found.source === 'provider' ? { group: found, created: false } : null;
  try {
    return {
      group: await store.createGroup({ name, nameKey: key, source: 'provider', createdAt: now }),
      created: true,
    };
  } catch (err) {
    if (!(err instanceof GroupExistsError)) throw err;
    // another sign-in (here or on another instance) created it meanwhile; or an admin made a local one
    const raced = await store.findGroup(key);
    return raced?.source === 'provider' ? { group: raced, created: false } : null;
  }
}

/**
 * Makes `userId`'s provider groups exactly `names` (from `groupNamesFromClaim`): joins each (creating it when
 * missing), leaves every other provider group. Local groups, and the user's memberships in them, are untouched.
 */
export async function syncProviderGroups(
  store: GroupStore,
  userId: string,
  names: readonly string[],
  now: number,
): Promise<ProviderGroupSync> {
  const result: ProviderGroupSync = { created: [], joined: [], left: [], local: [] };
  const before = await store.groupsOf(userId);
  const memberOf = new Set(before.map((g) => g.id));
  const wanted = new Set<string>();
  for (const name of names) {
    const found = await providerGroup(store, name, now);
    if (!found) {
      result.local.push(name);
      continue;
    }
    wanted.add(found.group.id);
    if (found.created) result.created.push(found.group.name);
    if (!memberOf.has(found.group.id)) {
      await store.addMember(found.group.id, userId);
      result.joined.push(found.group.name);
    }
  }
  for (const group of before) {
    if (group.source !== 'provider' || wanted.has(group.id)) continue;
    if (await store.removeMember(group.id, userId)) result.left.push(group.name);
  }
  return result;
}
