import type { VersionRecord } from './types.ts';

/**
 * Which old autosaves a file's history can do without: the rule Catalog.thinAutosaves applies, written once as a
 * pure function so every backend thins alike.
 *
 * An editor autosaves every few minutes while someone types; months later nobody needs each of those, only where
 * each sitting ended. So an editing session is a maximal run of consecutive autosaves (by version number) by one
 * author, ended by any version that is not an autosave, by another author's version, or by more than
 * SESSION_GAP_MS between two consecutive versions. Of the versions older than the cutoff, an autosave is dropped
 * when it is not the last of its session; everything else stays: the last autosave of every session, every manual
 * save, exit save, upload, restore, PutRelativeFile version, and the head.
 */

/** The longest pause between two autosaves of one editing session. */
export const SESSION_GAP_MS = 30 * 60 * 1000;

/**
 * An autosave as thinning sees it: IsAutosave sent true by an editor's PutFile. An autosave that says it is also
 * the save on close (IsExitSave) counts as an exit save, which is always kept and ends its session.
 */
const isAutosave = (v: VersionRecord) => v.autosave === true && v.exitSave !== true && v.source === 'put';

/**
 * The version numbers (ascending) thinning drops from `versions`, one file's history in any order: autosaves
 * created before `olderThan` that the next version continues (same author, autosave too, within SESSION_GAP_MS).
 * `head` is never dropped. Dropping changes no other version's number, and leaves every kept version's successor
 * as it was, so thinning again drops nothing more (until new versions arrive or more of them grow old).
 */
export function autosavesToThin(versions: readonly VersionRecord[], head: number, olderThan: number): number[] {
  const sorted = [...versions].sort((a, b) => a.version - b.version);
  const drop: number[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const v = sorted[i] as VersionRecord;
    const next = sorted[i + 1] as VersionRecord;
    if (v.version === head || v.createdAt >= olderThan || !isAutosave(v)) continue;
    const sameSession =
      isAutosave(next) && next.authorId === v.authorId && next.createdAt - v.createdAt <= SESSION_GAP_MS;
    if (sameSession) drop.push(v.version);
  }
  return drop;
}
