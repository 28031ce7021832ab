/**
 * The form names are compared in, by every store: without case and Unicode-normalized, as the file systems
 * documents end up on compare them.
 */
export const nameKey = (name: string) => name.normalize('NFC').toLowerCase();
