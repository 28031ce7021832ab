import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  illegalNameReason,
  MAX_NAME_LENGTH,
  makeLegalName,
  NameError,
  nonClobberingNames,
} from '../src/documents/names.ts';
import { decodeNameHeader, encodeNameHeader } from '../src/wopi/name-header.ts';

/** A small deterministic PRNG (mulberry32), so property loops are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const codePoints = (s: string) => [...s].length;

/** How a header value arrives when a client sent UTF-8 bytes instead of UTF-7: Node reads header bytes as latin1. */
const asLatin1 = (bytes: Uint8Array) => Buffer.from(bytes).toString('latin1');

function take<T>(it: Iterable<T>, n: number): T[] {
  const out: T[] = [];
  for (const x of it) {
    if (out.length >= n) break;
    out.push(x);
  }
  return out;
}

describe('decodeNameHeader: UTF-7', () => {
  it('decodes a run holding one accented letter', () => {
    assert.equal(decodeNameHeader('Caf+AOk-.docx'), 'Café.docx');
  });

  it('decodes CJK', () => {
    assert.equal(decodeNameHeader('+ZeVnLIqe-.docx'), '日本語.docx');
  });

  it('decodes "+-" as a literal plus', () => {
    assert.equal(decodeNameHeader('a+-b'), 'a+b');
    assert.equal(decodeNameHeader('+-+-.docx'), '++.docx');
  });

  it('passes plain ASCII through unchanged', () => {
    assert.equal(decodeNameHeader('Report 2026 (final).docx'), 'Report 2026 (final).docx');
  });

  it('ends a run at a non-base64 character without a "-"', () => {
    assert.equal(decodeNameHeader('+ZeVnLIqe.docx'), '日本語.docx');
    assert.equal(decodeNameHeader('+AGE'), 'a');
  });

  it('decodes a surrogate pair (emoji) inside one run', () => {
    assert.equal(decodeNameHeader('+2D3eAA-.docx'), '😀.docx');
  });

  it('returns NFC: a decomposed accent comes back composed', () => {
    const decomposed = 'Cafe\u0301.docx';
    assert.equal(decodeNameHeader(encodeNameHeader(decomposed)), 'Café.docx');
  });

  it('round-trips encodeNameHeader for accents, CJK, emoji, "+" and spaces', () => {
    const names = [
      'Café.docx',
      'Größe über Maß.xlsx',
      'Ångström – naïve façade.pptx',
      '日本語.docx',
      '한국어 문서.docx',
      '😀.docx',
      '👩‍💻 notes 🚀🚀.txt',
      '𝄞 music.pdf',
      'a+b.docx',
      '+leading plus.docx',
      'trailing plus+.docx',
      '++ double ++.docx',
      'a b  c.docx',
      'mix é+😀+日 x.docx',
      'tilde~and\\backslash.txt',
      'plain.docx',
    ];
    for (const name of names) {
      const header = encodeNameHeader(name);
      assert.match(header, /^[\x20-\x7e]*$/, `encoded ${JSON.stringify(name)} must be printable ASCII: ${header}`);
      assert.equal(decodeNameHeader(header), name.normalize('NFC'), `round trip of ${JSON.stringify(name)}`);
    }
  });

  it('round-trips random strings over BMP and astral characters', () => {
    const rand = prng(7);
    const pool = ['a', 'Z', ' ', '+', '-', '.', 'é', 'ß', '日', '本', '한', '€', '😀', '🚀', '𝄞', '~', '!', '/'];
    for (let i = 0; i < 500; i++) {
      let s = '';
      const len = 1 + Math.floor(rand() * 20);
      for (let k = 0; k < len; k++) s += pool[Math.floor(rand() * pool.length)];
      assert.equal(decodeNameHeader(encodeNameHeader(s)), s.normalize('NFC'), JSON.stringify(s));
    }
  });
});

describe('decodeNameHeader: malformed UTF-7 is refused with NameError', () => {
  const refused = (raw: string) =>
    assert.throws(() => decodeNameHeader(raw), NameError, `${JSON.stringify(raw)} must be refused`);

  it('refuses "+" followed by neither base64 nor "-"', () => {
    refused('a+!b');
    refused('a+ b.docx');
    refused('a+.docx');
  });

  it('refuses a "+" at the very end', () => {
    refused('a+');
  });

  it('accepts zero padding bits ("+AGE-") and refuses non-zero ones ("+AGF-")', () => {
    assert.equal(decodeNameHeader('+AGE-'), 'a');
    refused('+AGF-');
    refused('+AGF');
    // two characters (32 bits) + 4 spare bits: zero is fine, non-zero is not
    assert.equal(decodeNameHeader('+AOkA6Q-'), 'éé');
    refused('+AOkA6R-');
  });

  it('refuses a run too short to hold one character', () => {
    refused('+A-');
    refused('+AA-');
    refused('x+A.docx');
  });

  it('refuses a run ending in the middle of a character (6 or more spare bits)', () => {
    // "AOkA" is 24 bits: one character and 8 bits of a second one
    refused('+AOkA-');
    refused('+AOkA6-');
  });

  it('refuses a lone surrogate', () => {
    refused('+2D0-');
    refused('+2D0-.docx');
    refused('+3gA-.docx');
  });

  it('agrees with an independent RFC 2152 reading on random base64 runs', () => {
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    /** The name a well-formed "x+RUN-y" stands for, or null when it is malformed. */
    function reference(run: string): string | null {
      let bits = 0n;
      for (const ch of run) bits = (bits << 6n) | BigInt(B64.indexOf(ch));
      const total = run.length * 6;
      const units = Math.floor(total / 16);
      const spare = total - units * 16;
      if (units === 0 || spare >= 6) return null;
      if ((bits & ((1n << BigInt(spare)) - 1n)) !== 0n) return null;
      const codes: number[] = [];
      for (let u = units - 1; u >= 0; u--) {
        codes.push(Number((bits >> BigInt(spare + u * 16)) & 0xffffn));
      }
      const text = String.fromCharCode(...codes);
      if (!text.isWellFormed()) return null;
      return `x${text}y`.normalize('NFC');
    }
    const rand = prng(2152);
    let accepted = 0;
    let refusedCount = 0;
    for (let i = 0; i < 4000; i++) {
      const len = 1 + Math.floor(rand() * 9);
      let run = '';
      for (let k = 0; k < len; k++) run += B64[Math.floor(rand() * 64)];
      const raw = `x+${run}-y`;
      const expected = reference(run);
      if (expected === null) {
        assert.throws(() => decodeNameHeader(raw), NameError, `${raw} must be refused`);
        refusedCount++;
      } else {
        assert.equal(decodeNameHeader(raw), expected, raw);
        accepted++;
      }
    }
    // the loop exercised both sides
    assert.ok(accepted > 100, `accepted ${accepted}`);
    assert.ok(refusedCount > 100, `refused ${refusedCount}`);
  });
});

describe('decodeNameHeader: raw UTF-8 (clients that skip UTF-7)', () => {
  it('accepts valid UTF-8 bytes handed over as latin1', () => {
    assert.equal(decodeNameHeader(asLatin1(Buffer.from('Café.docx'))), 'Café.docx');
    assert.equal(decodeNameHeader(asLatin1(Buffer.from('日本語.docx'))), '日本語.docx');
    assert.equal(decodeNameHeader(asLatin1(Buffer.from('😀 a+b.docx'))), '😀 a+b.docx');
  });

  it('refuses bytes that are not valid UTF-8', () => {
    const bad: number[][] = [
      [0xff, 0xfe, 0x2e, 0x64], // never valid in UTF-8
      [0x43, 0x61, 0x66, 0xe9, 0x2e, 0x64], // "Café" in latin1: a lone continuation-less lead byte
      [0xc0, 0xaf, 0x2e, 0x64], // overlong "/"
      [0xed, 0xa0, 0x80, 0x2e, 0x64], // an encoded surrogate
      [0xe6, 0x97, 0x2e, 0x64], // truncated three-byte sequence
    ];
    for (const bytes of bad) {
      assert.throws(() => decodeNameHeader(asLatin1(Uint8Array.from(bytes))), NameError, `bytes ${bytes.join(',')}`);
    }
  });
});

describe('illegalNameReason', () => {
  it('is null for legal names', () => {
    const legal = [
      'Report.docx',
      'a',
      'Café.docx',
      '日本語.docx',
      '😀.docx',
      'a+b c.docx',
      'Report (1).docx',
      'v1.2.3 final.xlsx',
      '.hidden',
      'console.docx',
      'connection.txt',
      'com10.txt',
      'x'.repeat(MAX_NAME_LENGTH),
      `${'x'.repeat(MAX_NAME_LENGTH - 5)}.docx`,
      '😀'.repeat(MAX_NAME_LENGTH),
    ];
    for (const name of legal) assert.equal(illegalNameReason(name), null, JSON.stringify(name));
  });

  it('gives a reason for empty and dot-only names', () => {
    for (const name of ['', ' ', '   ', '.', '..', '...']) {
      const reason = illegalNameReason(name);
      assert.equal(typeof reason, 'string', JSON.stringify(name));
      assert.ok((reason as string).length > 0);
    }
  });

  it('gives a reason for each forbidden character', () => {
    for (const ch of ['/', '\\', ':', '*', '?', '"', '<', '>', '|']) {
      for (const name of [`a${ch}b.docx`, `${ch}.docx`, `report.docx${ch}`]) {
        const reason = illegalNameReason(name);
        assert.notEqual(reason, null, JSON.stringify(name));
        assert.ok(reason?.includes('forbidden'), `${JSON.stringify(name)}: ${reason}`);
      }
    }
  });

  it('gives a reason for every control character', () => {
    for (let code = 0; code <= 0x1f; code++) {
      const name = `a${String.fromCharCode(code)}b.docx`;
      assert.notEqual(illegalNameReason(name), null, `U+${code.toString(16).padStart(4, '0')}`);
    }
    assert.notEqual(illegalNameReason('a\u007fb.docx'), null, 'DEL');
  });

  it('gives a reason for a trailing dot or space', () => {
    for (const name of ['a.', 'a.docx.', 'Report..', 'a ', 'a.docx ', 'a.docx\u0020\u0020']) {
      assert.notEqual(illegalNameReason(name), null, JSON.stringify(name));
    }
  });

  it('gives a reason for reserved device names, in any case and with any extension', () => {
    for (const name of [
      'CON',
      'con',
      'CON.docx',
      'nul.txt',
      'Prn.pdf',
      'aux.x',
      'COM1.docx',
      'lpt9.txt',
      'NUL.tar.gz',
    ]) {
      assert.notEqual(illegalNameReason(name), null, JSON.stringify(name));
    }
  });

  it('gives a reason for names longer than 255 characters', () => {
    assert.notEqual(illegalNameReason('x'.repeat(MAX_NAME_LENGTH + 1)), null);
    assert.notEqual(illegalNameReason(`${'x'.repeat(MAX_NAME_LENGTH - 4)}.docx`), null);
    assert.notEqual(illegalNameReason('😀'.repeat(MAX_NAME_LENGTH + 1)), null);
  });

  it('gives a reason for a name that is not well-formed Unicode', () => {
    assert.notEqual(illegalNameReason('\ud800.docx'), null);
  });
});

describe('makeLegalName', () => {
  const nasty = [
    '../../etc/passwd',
    '../../etc/passwd.docx',
    '..\\..\\windows\\system32\\config.docx',
    'a/b\\c:d*e?f"g<h>i|j.docx',
    '\u0000\u001f.docx',
    '\u0000',
    '\u007f\u0085.docx',
    '...',
    '.',
    '..',
    '',
    ' ',
    '   .docx',
    '..docx',
    ' . . ',
    'a.b.c. . .',
    'report.docx.',
    'report.docx ',
    'report. .docx',
    ' report.docx',
    'CON',
    'CON.docx',
    'con .docx',
    'nul.',
    'lpt1.txt',
    'con.docx.',
    'nul.txt.',
    'aux.pdf. .',
    'x'.repeat(600),
    `${'x'.repeat(600)}.docx`,
    `${'x'.repeat(250)}.${'y'.repeat(10)}`,
    `${'x'.repeat(254)} .d`,
    `${'😀'.repeat(300)}.docx`,
    `a.${'😀'.repeat(300)}`,
    `.${'e'.repeat(600)}`,
    `a.${'e'.repeat(253)}`,
    'con:stream.docx',
    'file.docx:$DATA',
    '<script>alert(1)</script>.docx',
    '|||.docx',
    '????',
    '*.*',
    '"quoted".docx',
    '\t\n\r.docx',
  ];

  it('turns every nasty suggestion into a legal name', () => {
    const failures: string[] = [];
    for (const input of nasty) {
      const out = makeLegalName(input, 'fallback');
      assert.ok(!/[/\\]/.test(out), `${JSON.stringify(out)} holds a path separator`);
      assert.ok(codePoints(out) <= MAX_NAME_LENGTH);
      const reason = illegalNameReason(out);
      if (reason)
        failures.push(`${JSON.stringify(input.slice(0, 40))} became ${JSON.stringify(out.slice(0, 40))}: ${reason}`);
    }
    assert.deepEqual(failures, []);
  });

  it('turns random garbage into legal names (property loop)', () => {
    const rand = prng(42);
    const pool = ['/', '\\', ':', '*', '?', '"', '<', '>', '|', '.', '.', ' ', '\u0000', '\u0007', '\u001f', '\u007f'];
    pool.push('\u0090', 'a', 'b', 'Z', '0', 'é', '日', '😀', 'con', 'NUL', 'lpt1', '\t', '-', '_', '+', '..', '.docx');
    const failures: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const len = Math.floor(rand() * (rand() < 0.1 ? 400 : 20));
      let s = '';
      for (let k = 0; k < len; k++) s += pool[Math.floor(rand() * pool.length)];
      const out = makeLegalName(s, 'fallback');
      const reason = illegalNameReason(out);
      if (reason && failures.length < 5) failures.push(`${JSON.stringify(s)} became ${JSON.stringify(out)}: ${reason}`);
    }
    assert.deepEqual(failures, [], 'first failing examples');
  });

  it('keeps the extension where there is one', () => {
    const cases: Array<[string, string]> = [
      ['a/b\\c:d*e?f"g<h>i|j.docx', '.docx'],
      ['\u0000\u001f.docx', '.docx'],
      ['   .docx', '.docx'],
      ['../../etc/passwd.docx', '.docx'],
      [`${'x'.repeat(600)}.docx`, '.docx'],
      [`${'😀'.repeat(300)}.docx`, '.docx'],
      ['CON.docx', '.docx'],
      ['report.docx.', '.docx'],
      ['report.docx ', '.docx'],
      ['Café.xlsx', '.xlsx'],
    ];
    for (const [input, ext] of cases) {
      const out = makeLegalName(input, 'fallback');
      assert.ok(out.endsWith(ext), `${JSON.stringify(input)} became ${JSON.stringify(out)}, lost ${ext}`);
      assert.ok(out.length > ext.length, `${JSON.stringify(out)} has no base`);
    }
  });

  it('uses the fallback base when nothing is left of the base', () => {
    assert.equal(makeLegalName('...', 'Report'), 'Report');
    assert.equal(makeLegalName('   .docx', 'Report'), 'Report.docx');
    assert.equal(makeLegalName('', 'Report'), 'Report');
  });

  it('leaves ordinary legal names as they are', () => {
    for (const name of [
      'Report.docx',
      'Café.docx',
      '日本語 (draft).docx',
      'a+b c.docx',
      '😀.pptx',
      'v1.2 final.xlsx',
    ]) {
      assert.equal(makeLegalName(name, 'fallback'), name);
    }
  });

  it('makes a reserved name legal even when a trailing dot hid its extension', () => {
    for (const input of ['con.docx.', 'nul.txt.', 'aux.pdf. .', 'CON.docx ']) {
      const out = makeLegalName(input, 'fallback');
      assert.equal(illegalNameReason(out), null, `${JSON.stringify(input)} became ${JSON.stringify(out)}`);
    }
  });

  it('does not split a surrogate pair when it truncates', () => {
    const out = makeLegalName(`${'😀'.repeat(300)}.docx`, 'fallback');
    assert.ok(out.isWellFormed());
    assert.equal(codePoints(out), MAX_NAME_LENGTH);
  });

  it('makes a suggestion holding a lone surrogate legal', () => {
    for (const input of ['\ud800abc.docx', 'abc.\udc00', 'a\udc00b']) {
      const out = makeLegalName(input, 'fallback');
      assert.equal(illegalNameReason(out), null, `${JSON.stringify(input)} became ${JSON.stringify(out)}`);
    }
  });
});

describe('nonClobberingNames', () => {
  it('yields the name, then "base (1).ext", "base (2).ext"', () => {
    assert.deepEqual(take(nonClobberingNames('Report.docx'), 4), [
      'Report.docx',
      'Report (1).docx',
      'Report (2).docx',
      'Report (3).docx',
    ]);
  });

  it('puts the counter at the end of a name without extension', () => {
    assert.deepEqual(take(nonClobberingNames('README'), 3), ['README', 'README (1)', 'README (2)']);
  });

  it('stops after `limit` alternatives', () => {
    assert.deepEqual([...nonClobberingNames('a.docx', 3)], ['a.docx', 'a (1).docx', 'a (2).docx', 'a (3).docx']);
  });

  it('yields distinct, legal names that keep the extension', () => {
    const names = take(nonClobberingNames('Café 日本.docx'), 200);
    assert.equal(new Set(names).size, names.length);
    for (const n of names) {
      assert.equal(illegalNameReason(n), null, n);
      assert.ok(n.endsWith('.docx'), n);
    }
  });

  it('keeps long names within 255 characters, legal, distinct and with their extension', () => {
    const longNames = [
      `${'x'.repeat(MAX_NAME_LENGTH - 5)}.docx`,
      `${'x'.repeat(200)}.docx`,
      'x'.repeat(MAX_NAME_LENGTH),
      `${'😀'.repeat(MAX_NAME_LENGTH - 5)}.docx`,
      `${'日'.repeat(MAX_NAME_LENGTH - 5)}.docx`,
    ];
    for (const name of longNames) {
      assert.equal(illegalNameReason(name), null, 'precondition: the input is legal');
      const { length: extLength } = name.slice(name.lastIndexOf('.'));
      const all = [...nonClobberingNames(name)];
      assert.equal(all.length, 10_001);
      assert.equal(new Set(all).size, all.length, 'candidates are distinct');
      for (const n of all) {
        assert.ok(codePoints(n) <= MAX_NAME_LENGTH, `${codePoints(n)} characters: ${n.slice(-20)}`);
        assert.equal(illegalNameReason(n), null, n.slice(-20));
        assert.ok(n.isWellFormed());
        if (name.includes('.')) assert.equal(n.slice(-extLength), name.slice(-extLength));
      }
      assert.ok(all[1]?.endsWith(name.includes('.') ? ' (1).docx' : ' (1)'), all[1]?.slice(-20));
      assert.ok(all[10_000]?.endsWith(name.includes('.') ? ' (10000).docx' : ' (10000)'), all[10_000]?.slice(-20));
    }
  });

  it('keeps names with a very long extension within 255 characters and legal', () => {
    for (const name of [`a.${'e'.repeat(MAX_NAME_LENGTH - 5)}`, `a.${'e'.repeat(MAX_NAME_LENGTH - 2)}`]) {
      assert.equal(illegalNameReason(name), null, 'precondition: the input is legal');
      const candidates = take(nonClobberingNames(name), 12);
      assert.equal(new Set(candidates).size, candidates.length, 'candidates are distinct');
      for (const n of candidates) {
        assert.ok(codePoints(n) <= MAX_NAME_LENGTH, `${codePoints(n)} characters: ${JSON.stringify(n.slice(0, 12))}`);
        assert.equal(illegalNameReason(n), null, JSON.stringify(n.slice(0, 12)));
      }
    }
  });
});
