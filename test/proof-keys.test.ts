import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  buildExpectedProof,
  checkProof,
  dotNetTicksToMs,
  importProofKey,
  msToDotNetTicks,
  PROOF_MAX_AGE_MS,
  type ProofCheckInput,
  type ProofKey,
  type ProofKeySet,
  parseCspPublicKeyBlob,
} from '../src/auth/proof-keys.ts';
import { type PublishedProofCase, publishedCases, publishedDiscovery } from './fixtures/proof-keys.ts';

const publishedKeys: ProofKeySet = {
  current: { modulus: publishedDiscovery.modulus, exponent: publishedDiscovery.exponent },
  old: { modulus: publishedDiscovery.oldmodulus, exponent: publishedDiscovery.oldexponent },
};
const publishedBlobKeys: ProofKeySet = {
  current: { value: publishedDiscovery.value },
  old: { value: publishedDiscovery.oldvalue },
};

/** The published requests date from 2015, so each is checked at the moment it was signed. */
function requestOf(published: PublishedProofCase, changes: Partial<ProofCheckInput> = {}): ProofCheckInput {
  const { accessToken, url, timestamp, proof, proofOld } = published;
  return { accessToken, url, timestamp, proof, proofOld, now: dotNetTicksToMs(BigInt(timestamp)), ...changes };
}

function publishedCase(expected: PublishedProofCase['expected']): PublishedProofCase {
  const found = publishedCases.find((c) => c.expected === expected);
  assert.ok(found, `fixture has a case for ${expected}`);
  return found;
}

function flipByte(base64: string, index: number): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[index] = (bytes[index] ?? 0) ^ 0xff;
  return bytes.toString('base64');
}

const MINUTE_MS = 60_000;

/** A signing key of our own, published both ways discovery does: modulus/exponent and a CSP blob. */
interface OwnProofKey {
  privateKey: KeyObject;
  discovery: ProofKey;
  blob: ProofKey;
}

function generateProofKey(): OwnProofKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' });
  const modulus = Buffer.from(jwk.n ?? '', 'base64url');
  const exponent = Buffer.from(jwk.e ?? '', 'base64url');
  return {
    privateKey,
    discovery: { modulus: modulus.toString('base64'), exponent: exponent.toString('base64') },
    blob: { value: toCspPublicKeyBlob(modulus, exponent).toString('base64') },
  };
}

/** Writes a PUBLICKEYBLOB the way .NET's ExportCspBlob does, to exercise the parser on keys it has not seen. */
function toCspPublicKeyBlob(modulus: Buffer, exponent: Buffer): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt8(0x06, 0); // PUBLICKEYBLOB
  header.writeUInt8(0x02, 1); // CUR_BLOB_VERSION
  header.writeUInt32LE(0xa400, 4); // CALG_RSA_KEYX
  header.write('RSA1', 8, 'latin1');
  header.writeUInt32LE(modulus.length * 8, 12);
  header.writeUInt32LE(exponent.readUIntBE(0, exponent.length), 16);
  return Buffer.concat([header, Buffer.from(modulus).reverse()]);
}

/** Signs as the editor does, laying out the proof bytes here rather than trusting the module under test. */
function signProof(privateKey: KeyObject, accessToken: string, url: string, ticks: bigint): string {
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return [length, bytes];
  };
  const timestamp = Buffer.alloc(8);
  timestamp.writeBigUInt64BE(ticks);
  const data = Buffer.concat([
    ...field(Buffer.from(accessToken, 'utf8')),
    ...field(Buffer.from(url.toUpperCase(), 'utf8')),
    ...field(timestamp),
  ]);
  return sign('sha256', data, privateKey).toString('base64');
}

describe('proof keys: Microsoft published test vectors', () => {
  for (const published of publishedCases) {
    it(`${published.name}: ${published.expected}`, () => {
      const result = checkProof(requestOf(published), publishedKeys);
      if (published.expected === 'refused') assert.equal(result.ok, false);
      else assert.deepEqual(result, { ok: true, matched: published.expected });
    });
  }

  it('gives the same verdicts with keys given only as CSP blobs (value / oldvalue)', () => {
    for (const published of publishedCases) {
      const fromBlob = checkProof(requestOf(published), publishedBlobKeys);
      const fromModulus = checkProof(requestOf(published), publishedKeys);
      assert.deepEqual(fromBlob, fromModulus, published.name);
    }
  });

  it('reads the same RSA key from the CSP blob as from modulus and exponent', () => {
    for (const [blob, pair] of [
      [publishedBlobKeys.current, publishedKeys.current],
      [publishedBlobKeys.old, publishedKeys.old],
    ] as const) {
      const fromBlob = importProofKey(blob);
      const fromPair = importProofKey(pair);
      assert.ok(fromBlob.ok && fromPair.ok);
      assert.deepEqual(fromBlob.key.export({ format: 'jwk' }), fromPair.key.export({ format: 'jwk' }));
      assert.equal(fromBlob.key.asymmetricKeyDetails?.modulusLength, 2048);
    }
  });

  it('refuses a signature with one byte flipped', () => {
    const published = publishedCase('current');
    const result = checkProof(requestOf(published, { proof: flipByte(published.proof, 10) }), publishedKeys);
    assert.equal(result.ok, false);
    const lastByte = checkProof(requestOf(published, { proof: flipByte(published.proof, 255) }), publishedKeys);
    assert.equal(lastByte.ok, false);
  });

  it('refuses a timestamp more than 20 minutes old, even with valid signatures', () => {
    for (const published of publishedCases.filter((c) => c.expected !== 'refused')) {
      const signedAt = dotNetTicksToMs(BigInt(published.timestamp));
      assert.equal(checkProof(requestOf(published, { now: signedAt + PROOF_MAX_AGE_MS }), publishedKeys).ok, true);
      const late = checkProof(requestOf(published, { now: signedAt + PROOF_MAX_AGE_MS + 1 }), publishedKeys);
      assert.deepEqual(late, { ok: false, reason: 'X-WOPI-TimeStamp is more than 20 minutes old' });
      const hourLate = checkProof(requestOf(published, { now: signedAt + 60 * MINUTE_MS }), publishedKeys);
      assert.equal(hourLate.ok, false);
    }
  });

  it('refuses a timestamp more than 20 minutes in the future', () => {
    const published = publishedCase('current');
    const signedAt = dotNetTicksToMs(BigInt(published.timestamp));
    const skewed = checkProof(requestOf(published, { now: signedAt - PROOF_MAX_AGE_MS + 1 }), publishedKeys);
    assert.equal(skewed.ok, true);
    const future = checkProof(requestOf(published, { now: signedAt - PROOF_MAX_AGE_MS - 1 }), publishedKeys);
    assert.deepEqual(future, { ok: false, reason: 'X-WOPI-TimeStamp is more than 20 minutes in the future' });
  });

  it('uppercases the URL, so its letter case does not matter', () => {
    for (const published of publishedCases.filter((c) => c.expected !== 'refused')) {
      assert.equal(checkProof(requestOf(published, { url: published.url.toLowerCase() }), publishedKeys).ok, true);
      assert.equal(checkProof(requestOf(published, { url: published.url.toUpperCase() }), publishedKeys).ok, true);
    }
  });

  it('refuses a different URL', () => {
    const published = publishedCase('current');
    const variants = [
      published.url.replace('https://', 'http://'),
      published.url.replace('contoso.com', 'contoso.org'),
      `${published.url}&extra=1`,
      published.url.slice(0, published.url.indexOf('?')),
    ];
    for (const url of variants) {
      assert.equal(checkProof(requestOf(published, { url }), publishedKeys).ok, false, url);
    }
  });

  it('refuses a different access token', () => {
    const published = publishedCase('proof-old-key');
    const decoded = decodeURIComponent(published.accessToken);
    assert.equal(checkProof(requestOf(published, { accessToken: decoded }), publishedKeys).ok, false);
    assert.equal(
      checkProof(requestOf(published, { accessToken: `${published.accessToken}x` }), publishedKeys).ok,
      false,
    );
    assert.equal(checkProof(requestOf(published, { accessToken: '' }), publishedKeys).ok, false);
  });

  it('refuses a different timestamp', () => {
    const published = publishedCase('old-proof-current-key');
    const timestamp = (BigInt(published.timestamp) + 1n).toString();
    assert.equal(checkProof(requestOf(published, { timestamp }), publishedKeys).ok, false);
  });

  it('needs the old key for requests signed only with it', () => {
    const published = publishedCase('proof-old-key');
    const result = checkProof(requestOf(published), { current: publishedKeys.current });
    assert.equal(result.ok, false);
    assert.equal(checkProof(requestOf(publishedCase('current')), { current: publishedKeys.current }).ok, true);
  });

  it('swapping current and old keys still accepts a current proof, now as proof-old-key', () => {
    const swapped: ProofKeySet = { current: publishedKeys.old ?? {}, old: publishedKeys.current };
    assert.deepEqual(checkProof(requestOf(publishedCase('current')), swapped), { ok: true, matched: 'proof-old-key' });
  });
});

describe('proof keys: three accepted combinations, with keys of our own', () => {
  const editorCurrent = generateProofKey();
  const editorOld = generateProofKey();
  const stranger = generateProofKey();
  const accessToken = 'eyJhbGciOiJIUzI1NiJ9.quire-test-token';
  const url = `https://quire.example/wopi/files/f-42?access_token=${accessToken}&permission=edit`;
  const now = Date.UTC(2025, 5, 1, 12, 0, 0);
  const ticks = msToDotNetTicks(now);
  const keys: ProofKeySet = { current: editorCurrent.discovery, old: editorOld.discovery };

  const request = (proofKey: OwnProofKey, proofOldKey: OwnProofKey | undefined): ProofCheckInput => ({
    accessToken,
    url,
    timestamp: ticks.toString(),
    proof: signProof(proofKey.privateKey, accessToken, url, ticks),
    proofOld: proofOldKey && signProof(proofOldKey.privateKey, accessToken, url, ticks),
    now,
  });

  it('X-WOPI-Proof verifies with the current key', () => {
    assert.deepEqual(checkProof(request(editorCurrent, editorOld), keys), { ok: true, matched: 'current' });
  });

  it('X-WOPI-ProofOld verifies with the current key (the editor rotated; our discovery is stale)', () => {
    assert.deepEqual(checkProof(request(stranger, editorCurrent), keys), {
      ok: true,
      matched: 'old-proof-current-key',
    });
  });

  it('X-WOPI-Proof verifies with the old key (our discovery is newer than the signer)', () => {
    assert.deepEqual(checkProof(request(editorOld, stranger), keys), { ok: true, matched: 'proof-old-key' });
  });

  it('refuses when neither proof verifies', () => {
    const result = checkProof(request(stranger, stranger), keys);
    assert.deepEqual(result, {
      ok: false,
      reason: 'neither X-WOPI-Proof nor X-WOPI-ProofOld verifies with the discovery proof keys',
    });
  });

  it('refuses X-WOPI-ProofOld signed with the old key, which is not one of the three combinations', () => {
    assert.equal(checkProof(request(stranger, editorOld), keys).ok, false);
  });

  it('accepts a request without X-WOPI-ProofOld when X-WOPI-Proof verifies', () => {
    assert.deepEqual(checkProof(request(editorCurrent, undefined), keys), { ok: true, matched: 'current' });
  });

  it('round-trips with keys published only as CSP blobs', () => {
    const blobKeys: ProofKeySet = { current: editorCurrent.blob, old: editorOld.blob };
    assert.deepEqual(checkProof(request(editorCurrent, editorOld), blobKeys), { ok: true, matched: 'current' });
    assert.deepEqual(checkProof(request(stranger, editorCurrent), blobKeys), {
      ok: true,
      matched: 'old-proof-current-key',
    });
    assert.deepEqual(checkProof(request(editorOld, stranger), blobKeys), { ok: true, matched: 'proof-old-key' });
    assert.equal(checkProof(request(stranger, stranger), blobKeys).ok, false);
  });

  it('refuses a fresh proof once it is older than 20 minutes', () => {
    const stale = { ...request(editorCurrent, editorOld), now: now + PROOF_MAX_AGE_MS + 1 };
    assert.equal(checkProof(stale, keys).ok, false);
  });

  it('accepts a proof whose bytes were laid out by buildExpectedProof', () => {
    const data = buildExpectedProof(accessToken, url, ticks);
    const proof = sign('sha256', data, editorCurrent.privateKey).toString('base64');
    const input = { accessToken, url, timestamp: ticks.toString(), proof, proofOld: undefined, now };
    assert.deepEqual(checkProof(input, keys), { ok: true, matched: 'current' });
  });
});

describe('proof keys: expected proof bytes', () => {
  it('lays out length-prefixed token, uppercased URL and 8-byte big-endian timestamp', () => {
    const bytes = buildExpectedProof('tök', 'https://a/b?c=d', 0x0102030405060708n);
    const expected = Buffer.concat([
      Buffer.from([0, 0, 0, 4]),
      Buffer.from('tök', 'utf8'),
      Buffer.from([0, 0, 0, 15]),
      Buffer.from('HTTPS://A/B?C=D', 'utf8'),
      Buffer.from([0, 0, 0, 8]),
      Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]),
    ]);
    assert.deepEqual(bytes, expected);
  });

  it('keeps characters that would uppercase to several (as .NET ToUpperInvariant does)', () => {
    const bytes = buildExpectedProof('', 'https://a/straße', 1n);
    assert.ok(bytes.includes(Buffer.from('HTTPS://A/STRAßE', 'utf8')));
  });
});

describe('proof keys: .NET ticks', () => {
  it('converts between ticks and ms since the Unix epoch', () => {
    assert.equal(msToDotNetTicks(0), 621_355_968_000_000_000n);
    assert.equal(dotNetTicksToMs(621_355_968_000_000_000n), 0);
    assert.equal(dotNetTicksToMs(0n), Date.parse('0001-01-01T00:00:00Z'));
    assert.equal(dotNetTicksToMs(635655897610773532n), Date.parse('2015-04-25T20:16:01.077Z'));
    assert.equal(msToDotNetTicks(Date.parse('2015-04-25T20:16:01.077Z')), 635655897610770000n);
  });

  it('rounds sub-millisecond ticks down, before and after 1970', () => {
    assert.equal(dotNetTicksToMs(621_355_968_000_009_999n), 0);
    assert.equal(dotNetTicksToMs(621_355_967_999_999_999n), -1);
    assert.equal(msToDotNetTicks(-1), 621_355_967_999_990_000n);
  });
});

describe('proof keys: bad input is refused, never thrown', () => {
  const published = publishedCase('current');

  it('refuses missing, malformed and out-of-range timestamps', () => {
    const timestamps = [
      undefined,
      '',
      'abc',
      '-1',
      '1.5',
      '1e18',
      ' 635655897610773532',
      '635655897610773532 ',
      '0x10',
      '99999999999999999999',
      '9223372036854775808',
    ];
    for (const timestamp of timestamps) {
      const result = checkProof(requestOf(published, { timestamp }), publishedKeys);
      assert.equal(result.ok, false, String(timestamp));
      assert.match(result.ok ? '' : result.reason, /X-WOPI-TimeStamp/);
    }
  });

  it('refuses missing or malformed proof headers', () => {
    const proofs = [undefined, '', 'not base64!', 'AAAA', 'A', `${published.proof}=`, published.proof.slice(0, 100)];
    for (const proof of proofs) {
      assert.equal(checkProof(requestOf(published, { proof, proofOld: undefined }), publishedKeys).ok, false);
      assert.equal(checkProof(requestOf(published, { proof, proofOld: '%%%' }), publishedKeys).ok, false);
    }
  });

  it('refuses garbage keys', () => {
    const randomBlob = Buffer.alloc(276, 7).toString('base64');
    const wrongMagic = Buffer.from(publishedDiscovery.value, 'base64');
    wrongMagic.write('RSA2', 8, 'latin1');
    const truncated = Buffer.from(publishedDiscovery.value, 'base64').subarray(0, 200);
    const garbageKeys: ProofKey[] = [
      {},
      { modulus: '!!!', exponent: 'AQAB' },
      { modulus: publishedDiscovery.modulus, exponent: 'AAAA' },
      { modulus: 'AAAA', exponent: 'AQAB' },
      { modulus: '', exponent: '' },
      { value: 'AAAA' },
      { value: 'not base64' },
      { value: randomBlob },
      { value: wrongMagic.toString('base64') },
      { value: truncated.toString('base64') },
      { exponent: 'AQAB' },
    ];
    for (const key of garbageKeys) {
      const keySet: ProofKeySet = { current: key, old: key };
      const result = checkProof(requestOf(published), keySet);
      assert.equal(result.ok, false, JSON.stringify(key));
      const imported = importProofKey(key);
      assert.equal(imported.ok, false, JSON.stringify(key));
    }
    assert.equal(typeof parseCspPublicKeyBlob(wrongMagic), 'string');
  });

  it('refuses values of the wrong type without throwing', () => {
    const oddKeySets = [null, undefined, {}, { current: null }, { current: 'AQAB' }] as unknown as ProofKeySet[];
    for (const keys of oddKeySets) {
      assert.equal(checkProof(requestOf(published), keys).ok, false);
    }
    const oddInputs = [
      null,
      {},
      requestOf(published, { now: Number.NaN }),
      requestOf(published, { now: Number.POSITIVE_INFINITY }),
      { ...requestOf(published), timestamp: Number(published.timestamp) },
      { ...requestOf(published), proof: [published.proof] },
      { ...requestOf(published), accessToken: undefined },
      { ...requestOf(published), url: 42 },
    ] as unknown as ProofCheckInput[];
    for (const input of oddInputs) {
      assert.equal(checkProof(input, publishedKeys).ok, false);
    }
  });
});
