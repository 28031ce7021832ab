import { QuireError } from '../core/errors.ts';

/**
 * File-name rules, whoever asks (an editor's PutRelativeFile or RenameFile, an upload, the CLI): what a legal name
 * is, how an illegal suggestion is made legal, and which names to try so that nothing existing is ever overwritten.
 */

export const MAX_NAME_LENGTH = 255;

/** A name that cannot be used, with the reason in words a client log can show. */
export class NameError extends QuireError {
  override name = 'NameError';
  constructor(reason: string) {
    super(400, reason);
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what names must not hold
const ILLEGAL_CHARS = /[/\\:*?"<>|\u0000-\u001f\u007f-\u009f]/gu;
const RESERVED_BASE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;

export function splitExtension(name: string): { base: string; ext: string } {
  const dot = name.lastIndexOf('.');
  if (dot <= 0) return { base: name, ext: '' };
  return { base: name.slice(0, dot), ext: name.slice(dot) };
}

/** A character as a reason may show it: printable ones quoted, others as U+XXXX (reasons travel in headers). */
function describeChar(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  return code > 0x20 && code < 0x7f ? `"${c}"` : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** Why `name` cannot be a file name, or null when it can. */
export function illegalNameReason(name: string): string | null {
  if (name.length === 0 || name.trim().length === 0) return 'name is empty';
  if (!name.isWellFormed()) return 'name is not well-formed Unicode';
  if ([...name].length > MAX_NAME_LENGTH) return `name is longer than ${MAX_NAME_LENGTH} characters`;
  const illegal = name.match(ILLEGAL_CHARS)?.[0];
  if (illegal) return `name contains a forbidden character (${describeChar(illegal)})`;
  if (/^\.+$/.test(name)) return 'name consists of dots only';
  if (name !== name.trim()) return 'name starts or ends with a space';
  if (name.endsWith('.')) return 'name ends with a dot';
  if (isReservedName(name)) return 'name is a reserved device name';
  return null;
}

export function assertLegalName(name: string): void {
  const reason = illegalNameReason(name);
  if (reason) throw new NameError(`invalid name: ${reason}`);
}

function truncateChars(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max).join('');
}

/** Windows reserves device names by what precedes the first dot: "NUL.txt" and "nul.tar.gz" are both NUL. */
const isReservedName = (name: string) => RESERVED_BASE.test((name.split('.')[0] ?? '').trimEnd());

/** Turns any suggestion into a legal name, keeping its extension; `fallbackBase` fills an empty base. */
export function makeLegalName(suggestion: string, fallbackBase: string): string {
  // a trailing dot or space would hide the real extension (and a reserved name) from the split below
  const cleaned = suggestion
    .toWellFormed()
    .normalize('NFC')
    .replace(ILLEGAL_CHARS, '_')
    .replace(/[\s.]+$/u, '');
  let { base, ext } = splitExtension(cleaned);
  if ([...ext].length >= MAX_NAME_LENGTH - 1) ext = truncateChars(ext, 16).replace(/[\s.]+$/u, '');
  base = base.replace(/^[\s.]+|[\s.]+$/gu, '') || fallbackBase;
  if (isReservedName(base)) base = base.replace(/^[^.]*/u, (first) => `${first.trimEnd()}_`);
  base = truncateChars(base, MAX_NAME_LENGTH - [...ext].length).replace(/[\s.]+$/u, '') || '_';
  const name = base + ext;
  // every rule above should have made it legal; never hand out an illegal name if one slipped through
  return illegalNameReason(name) ? `_${ext && !illegalNameReason(`_${ext}`) ? ext : ''}` : name;
}

/** `name`, then "base (1).ext", "base (2).ext" …: the names to try, in order, so that nothing is overwritten. */
export function* nonClobberingNames(name: string, limit = 10_000): Generator<string> {
  yield name;
  const { base, ext } = splitExtension(name);
  for (let n = 1; n <= limit; n++) {
    const suffix = ` (${n})`;
    // keep at least one character of the base; a very long extension gives way
    const maxExt = MAX_NAME_LENGTH - suffix.length - 1;
    const e = [...ext].length > maxExt ? truncateChars(ext, maxExt).replace(/[\s.]+$/u, '') : ext;
    const b = truncateChars(base, MAX_NAME_LENGTH - [...e].length - suffix.length).replace(/[\s.]+$/u, '') || '_';
    yield b + suffix + e;
  }
}
