import iconv from 'iconv-lite';
import { NameError } from '../documents/names.ts';

/** File names as WOPI headers carry them: UTF-7 (X-WOPI-SuggestedTarget, RelativeTarget, RequestedName). */

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
