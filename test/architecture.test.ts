import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

/**
 * The arrows of ARCHITECTURE.md, checked: every import in src/ goes from a room to a room it may use, and the rooms
 * that must stay free of a web framework or a database driver import none. A new import that breaks the layout
 * fails here, naming the file and the import.
 */

const SRC = resolve(import.meta.dirname, '../src');

/** Which rooms each room may import from (besides itself and node:). */
const MAY_USE: Record<string, readonly string[]> = {
  core: [],
  storage: ['core'],
  auth: ['core'],
  documents: ['core', 'storage'],
  users: ['core', 'storage'],
  access: ['core', 'storage', 'auth', 'users', 'documents'],
  discovery: ['core', 'auth'],
  wopi: ['core', 'storage', 'documents', 'auth', 'discovery', 'access'],
  http: ['core', 'wopi', 'discovery', 'auth'],
  // webhooks: the outbox's deliveries, signed and sent (payload mapping, signing, the worker)
  webhooks: ['core', 'storage', 'documents'],
  web: ['core', 'storage', 'documents', 'users', 'auth', 'discovery', 'wopi', 'access', 'webhooks'],
  root: ['core', 'storage', 'documents', 'users', 'auth', 'discovery', 'wopi', 'http', 'web', 'access', 'webhooks'],
  cli: ['root', 'core', 'auth', 'discovery', 'access', 'webhooks', 'check'],
  // quire check: a WOPI client over plain HTTP; of wopi/ only the header names and the UTF-7 codec (checked below)
  check: ['core', 'wopi'],
  // the conformance kit (quire/testing): the storage contract suites, over the interfaces alone
  testing: ['core', 'storage'],
};

/** Packages only the outer rooms may import: the protocol and the rooms under it know no framework or driver. */
const FRAMEWORKS = [/^fastify$/, /^@fastify\//, /^prom-client$/];
const DRIVERS = [/^pg$/, /^better-sqlite3$/, /^@aws-sdk\//];
const FRAMEWORK_FREE = [
  'core',
  'storage',
  'auth',
  'documents',
  'users',
  'access',
  'discovery',
  'wopi',
  'testing',
  'webhooks',
  'check',
];
/** Within storage, only the backends' own folders talk to their drivers (the AWS SDK: only the S3 blob store). */
const DRIVER_FOLDERS = ['storage/sqlite/', 'storage/postgres/', 'storage/s3/'];

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

const roomOf = (file: string) => {
  const rel = relative(SRC, file);
  return rel.includes('/') ? (rel.split('/')[0] as string) : 'root';
};

function importsOf(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"]([^'"]+)['"]/gm))
    found.push(m[1] as string);
  for (const m of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1] as string);
  return found;
}

describe('the layout of src/', async () => {
  const files = await sourceFiles(SRC);
  const imports = await Promise.all(
    files.map(async (file) => ({ file, room: roomOf(file), specs: importsOf(await readFile(file, 'utf8')) })),
  );

  it('finds the rooms it checks', () => {
    assert.ok(files.length > 40, `read ${files.length} files`);
    for (const room of new Set(imports.map((i) => i.room))) assert.ok(room in MAY_USE, `unknown room ${room}`);
  });

  it('every import between rooms follows an arrow', () => {
    const wrong: string[] = [];
    for (const { file, room, specs } of imports) {
      for (const spec of specs.filter((s) => s.startsWith('.'))) {
        const target = roomOf(resolve(dirname(file), spec));
        if (target !== room && !MAY_USE[room]?.includes(target)) {
          wrong.push(`${relative(SRC, file)} (${room}) imports ${spec} (${target})`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('the protocol and the rooms under it import no web framework, and only backends import a driver', () => {
    const wrong: string[] = [];
    for (const { file, room, specs } of imports) {
      const rel = relative(SRC, file);
      for (const spec of specs) {
        if (FRAMEWORK_FREE.includes(room) && FRAMEWORKS.some((p) => p.test(spec))) wrong.push(`${rel}: ${spec}`);
        if (DRIVERS.some((p) => p.test(spec)) && !DRIVER_FOLDERS.some((f) => rel.startsWith(f))) {
          wrong.push(`${rel}: ${spec}`);
        }
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('quire check takes from wopi/ only the header names and the UTF-7 name codec, so it checks any host', () => {
    const allowed = new Set(['wopi/headers.ts', 'wopi/name-header.ts']);
    const wrong = imports
      .filter(({ room }) => room === 'check')
      .flatMap(({ file, specs }) =>
        specs
          .filter((s) => s.startsWith('.'))
          .map((s) => relative(SRC, resolve(dirname(file), s)))
          .filter((target) => roomOf(join(SRC, target)) === 'wopi' && !allowed.has(target))
          .map((target) => `${relative(SRC, file)}: ${target}`),
      );
    assert.deepEqual(wrong, []);
  });

  it('the protocol reaches storage only through its interfaces', () => {
    const wrong = imports
      .filter(({ room }) => ['wopi', 'web', 'documents', 'access', 'testing', 'webhooks'].includes(room))
      .flatMap(({ file, specs }) =>
        specs
          .filter((s) => /storage\/(sql|sqlite|postgres|s3)\/|fs-blobs/.test(s))
          .map((s) => `${relative(SRC, file)}: ${s}`),
      );
    assert.deepEqual(wrong, []);
  });
});
