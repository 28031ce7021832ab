import iconv from 'iconv-lite';

/**
 * File-name rules shared by PutRelativeFile, RenameFile and imports: decoding names from headers (UTF-7, as
 * WOPI clients send them), what a legal name is, how an illegal suggestion is made legal, and which names to try
 * so that nothing existing is ever overwritten.
 */

export const MAX_NAME_LENGTH = 255;

/** A name that cannot be used, with the reason in words a client log can show. */
export class NameError extends Error {
  override name = 'NameError';
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what names must not hold
const ILLEGAL_CHARS = /[/\\:*?"<>|\u0000-\u001f\u007f-\u009f]/gu;
const RESERVED_BASE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;
const BASE64_CHAR = /[A-Za-z0-9+/]/;

/**
 * RFC 2152 allows a shifted run to end with at most 5 padding bits, all zero; anything else (and a "+" that
 * starts no run) is a malformed name rather than something to guess at.
 */
function assertWellFormedUtf7(raw: string): void {
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code > 0x7f) throw new NameError('name header holds a non-ASCII byte outside UTF-7');
    if (raw[i] !== '+') continue;
    let j = i + 1;
    while (j < raw.length && BASE64_CHAR.test(raw[j] as string)) j++;
    const run = raw.slice(i + 1, j);
    if (run.length === 0) {
      if (raw[j] !== '-') throw new NameError('malformed UTF-7: "+" must start a base64 run or be written "+-"');
    } else {
      const bits = run.length * 6;
      const spare = bits % 16;
      const last = Buffer.from(`${run}AAA`.slice(0, Math.ceil(run.length / 4) * 4), 'base64');
      const units = Math.floor(bits / 16);
      if (units === 0 || spare >= 6) throw new NameError('malformed UTF-7: incomplete character in a base64 run');
      // the spare bits sit right after the last complete UTF-16 unit and must be zero
      const spareByteIndex = units * 2;
      const spareByte = last[spareByteIndex] ?? 0;
      const mask = (0xff << (8 - spare)) & 0xff;
      if ((spareByte & mask) !== 0) throw new NameError('malformed UTF-7: non-zero padding bits in a base64 run');
    }
    i = raw[j] === '-' ? j : j - 1;
  }
}

/** Decodes a name header: UTF-7 (what WOPI specifies); raw UTF-8 bytes are accepted when they are valid UTF-8. */
export function decodeNameHeader(raw: string): string {
  let decoded: string;
  if (/[\u0080-\uffff]/.test(raw)) {
    // Node hands header bytes over as latin1; a client that skipped UTF-7 sent UTF-8.
    try {
      decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(raw, 'latin1'));
    } catch {
      throw new NameError('name header is neither UTF-7 nor valid UTF-8');
    }
  } else {
    assertWellFormedUtf7(raw);
    decoded = iconv.decode(Buffer.from(raw, 'ascii'), 'utf7');
  }
  if (!decoded.isWellFormed()) throw new NameError('name decodes to broken UTF-16 (a lone surrogate)');
  return decoded.normalize('NFC');
}

/** UTF-7 for response headers (names may hold any character; header values may not). */
export function encodeNameHeader(name: string): string {
  return iconv.encode(name, 'utf7').toString('ascii');
}

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
  if (reason) throw new NameError(reason);
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
