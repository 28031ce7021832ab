import type { Permissions } from '../auth/tokens.ts';

/**
 * What someone may do with a document, weakest first. A share or a link gives one of the first three; the owner and
 * admins have `owner`. Every check compares ranks, so a role is "at least" another or it is not.
 */
export const ROLES = ['viewer', 'commenter', 'editor', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/** The roles a share or a link can give (ownership is not shared). */
export const SHARE_ROLES = ['viewer', 'commenter', 'editor'] as const satisfies readonly Role[];
export type ShareRole = (typeof SHARE_ROLES)[number];

export const rank = (role: Role): number => ROLES.indexOf(role);
export const atLeast = (role: Role, needed: Role): boolean => rank(role) >= rank(needed);
/** The stronger of two roles (someone with a direct share and a group share gets the better one). */
export const stronger = (a: Role | null, b: Role | null): Role | null =>
  a === null ? b : b === null ? a : rank(a) >= rank(b) ? a : b;

export const isShareRole = (value: unknown): value is ShareRole =>
  typeof value === 'string' && (SHARE_ROLES as readonly string[]).includes(value);

/** The editors with a comment-only mode (UserCanOnlyComment): ONLYOFFICE Docs 9.1+ and Collabora Online (2025). */
export const COMMENT_ONLY_FLAVOURS: readonly string[] = ['onlyoffice', 'collabora'];

/**
 * What each role may do through WOPI. Viewers write no content, take no lock and create nothing. A commenter is a
 * viewer, except where the editor has a comment-only mode: editors keep comments inside the document and save them
 * with Lock and PutFile, so there a commenter's token may lock and save (never rename, create or delete), and the
 * editor is told to allow comments only. WOPI cannot tell a comment from an edit in the saved bytes: that limit is
 * the editor's to keep. Deleting is the owner's.
 */
export function permissionsOf(role: Role, options: { commentOnlyEditor?: boolean } = {}): Permissions {
  const edit = atLeast(role, 'editor');
  const comments = role === 'commenter' && options.commentOnlyEditor === true;
  return { write: edit || comments, rename: edit, writeRelative: edit, delete: role === 'owner' };
}
