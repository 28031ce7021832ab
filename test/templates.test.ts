import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, isAbsolute, join, posix } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { openTemplate, TEMPLATES, type TemplateKind, templatePath } from '../src/documents/templates.ts';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const MAKE_TEMPLATES = join(REPO_ROOT, 'scripts', 'make-templates.ts');

// ---------------------------------------------------------------------------------------------------------------
// A small ZIP reader, independent of fflate (which scripts/make-templates.ts writes with), that checks what it reads.

const CRC_TABLE = Uint32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

interface ZipEntry {
  name: string;
  method: number;
  data: Buffer;
}

/** Entries in central-directory order; throws on anything a strict reader would reject. */
function readZip(zip: Buffer): ZipEntry[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(eocd >= 0 && eocd >= zip.length - 22 - 0xffff, 'end of central directory record not found');
  const count = zip.readUInt16LE(eocd + 10);
  const cdSize = zip.readUInt32LE(eocd + 12);
  let at = zip.readUInt32LE(eocd + 16);
  assert.equal(at + cdSize, eocd, 'central directory does not end where the end record starts');
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, `central directory entry ${i}: bad signature`);
    const flags = zip.readUInt16LE(at + 8);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const compressedSize = zip.readUInt32LE(at + 20);
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const localOffset = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;

    assert.equal(flags & 1, 0, `${name}: encrypted`);
    assert.equal(zip.readUInt32LE(localOffset), 0x04034b50, `${name}: bad local header signature`);
    const localName = zip.toString('utf8', localOffset + 30, localOffset + 30 + zip.readUInt16LE(localOffset + 26));
    assert.equal(localName, name, `${name}: local header names ${localName}`);
    const start = localOffset + 30 + zip.readUInt16LE(localOffset + 26) + zip.readUInt16LE(localOffset + 28);
    const raw = zip.subarray(start, start + compressedSize);
    assert.ok(method === 0 || method === 8, `${name}: compression method ${method}`);
    const data = method === 0 ? Buffer.from(raw) : inflateRawSync(raw);
    assert.equal(data.length, size, `${name}: size`);
    assert.equal(crc32(data), crc, `${name}: CRC-32`);
    entries.push({ name, method, data });
  }
  return entries;
}

function partsOf(zip: Buffer): Map<string, string> {
  return new Map(readZip(zip).map((e) => [e.name, e.data.toString('utf8')]));
}

// ---------------------------------------------------------------------------------------------------------------

const REQUIRED_PARTS: Record<TemplateKind, string[]> = {
  document: ['word/document.xml', 'word/_rels/document.xml.rels', 'word/styles.xml'],
  spreadsheet: ['xl/workbook.xml', 'xl/_rels/workbook.xml.rels', 'xl/worksheets/sheet1.xml', 'xl/styles.xml'],
  presentation: [
    'ppt/presentation.xml',
    'ppt/_rels/presentation.xml.rels',
    'ppt/slideMasters/slideMaster1.xml',
    'ppt/slideMasters/_rels/slideMaster1.xml.rels',
    'ppt/slideLayouts/slideLayout1.xml',
    'ppt/slideLayouts/_rels/slideLayout1.xml.rels',
    'ppt/slides/slide1.xml',
    'ppt/slides/_rels/slide1.xml.rels',
    'ppt/theme/theme1.xml',
    'ppt/presProps.xml',
    'ppt/viewProps.xml',
    'ppt/tableStyles.xml',
  ],
};
const PACKAGE_PARTS = ['[Content_Types].xml', '_rels/.rels', 'docProps/core.xml', 'docProps/app.xml'];

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_' });
type XmlNode = Record<string, unknown>;

function parse(xml: string): XmlNode {
  return parser.parse(xml) as XmlNode;
}

function asArray(value: unknown): XmlNode[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]) as XmlNode[];
}

/** Follows element names down from `root`, taking the first element at each step. */
function dig(root: XmlNode, ...names: string[]): XmlNode {
  let node = root;
  for (const name of names) {
    const next = asArray(node[name])[0];
    assert.ok(next !== undefined, `missing <${name}> under ${names.join(' > ')}`);
    node = next;
  }
  return node;
}

function childElementCount(node: XmlNode): number {
  let count = 0;
  for (const [key, value] of Object.entries(node)) {
    if (!key.startsWith('@_') && key !== '#text') count += asArray(value).length;
  }
  return count;
}

/** The part a relationship in `relsPart` points to (targets are relative to the source part's folder). */
function relationshipTarget(relsPart: string, target: string): string {
  if (target.startsWith('/')) return target.slice(1);
  const sourceDir = posix.dirname(posix.dirname(relsPart));
  return posix.normalize(posix.join(sourceDir === '.' ? '' : sourceDir, target));
}

describe('blank templates', () => {
  for (const template of TEMPLATES) {
    describe(template.file, () => {
      it('is a valid ZIP, deflated, with [Content_Types].xml first and the required parts', async () => {
        const entries = readZip(await readFile(templatePath(template.kind)));
        const names = entries.map((e) => e.name);
        assert.equal(names[0], '[Content_Types].xml');
        assert.equal(new Set(names).size, names.length, 'duplicate entries');
        for (const e of entries) assert.equal(e.method, 8, `${e.name} is not deflated`);
        for (const part of [...PACKAGE_PARTS, ...REQUIRED_PARTS[template.kind]]) {
          assert.ok(names.includes(part), `${part} is missing (have ${names.join(', ')})`);
        }
      });

      it('has well-formed XML in every part, a content type for each and no dangling relationship', async () => {
        const parts = partsOf(await readFile(templatePath(template.kind)));
        for (const [name, text] of parts) {
          assert.match(name, /\.(xml|rels)$/, `${name}: unexpected part`);
          assert.equal(XMLValidator.validate(text), true, `${name} is not well-formed`);
        }

        const types = dig(parse(parts.get('[Content_Types].xml') ?? ''), 'Types');
        const defaults = new Set(asArray(types.Default).map((d) => String(d['@_Extension'])));
        const overrides = asArray(types.Override).map((o) => String(o['@_PartName']).slice(1));
        for (const part of overrides) assert.ok(parts.has(part), `content type for missing part ${part}`);
        for (const name of parts.keys()) {
          if (name === '[Content_Types].xml') continue;
          const ext = name.slice(name.lastIndexOf('.') + 1); // posix.extname('_rels/.rels') is ''
          assert.ok(overrides.includes(name) || defaults.has(ext), `${name} has no content type`);
        }

        for (const [name, text] of parts) {
          if (!name.endsWith('.rels')) continue;
          const rels = asArray(dig(parse(text), 'Relationships').Relationship);
          assert.ok(rels.length > 0, `${name} is empty`);
          const ids = rels.map((r) => r['@_Id']);
          assert.equal(new Set(ids).size, ids.length, `${name}: duplicate relationship ids`);
          for (const rel of rels) {
            if (rel['@_TargetMode'] === 'External') continue;
            const target = relationshipTarget(name, String(rel['@_Target']));
            assert.ok(parts.has(target), `${name}: ${rel['@_Id']} points to missing ${target}`);
          }
        }
      });
    });
  }

  it('blank.docx has one empty paragraph on an A4 page and a Normal style', async () => {
    const parts = partsOf(await readFile(templatePath('document')));
    const body = dig(parse(parts.get('word/document.xml') ?? ''), 'w:document', 'w:body');
    assert.equal(asArray(body['w:p']).length, 1);
    const pgSz = dig(body, 'w:sectPr', 'w:pgSz');
    assert.deepEqual([pgSz['@_w:w'], pgSz['@_w:h']], ['11906', '16838']);
    const styles = asArray(dig(parse(parts.get('word/styles.xml') ?? ''), 'w:styles')['w:style']);
    const normal = styles.find((s) => s['@_w:styleId'] === 'Normal');
    assert.equal(normal?.['@_w:default'], '1');
  });

  it('blank.xlsx has one sheet named Sheet1 and the two fills the format reserves', async () => {
    const parts = partsOf(await readFile(templatePath('spreadsheet')));
    const sheets = asArray(dig(parse(parts.get('xl/workbook.xml') ?? ''), 'workbook', 'sheets').sheet);
    assert.deepEqual(
      sheets.map((s) => s['@_name']),
      ['Sheet1'],
    );
    const styles = dig(parse(parts.get('xl/styles.xml') ?? ''), 'styleSheet');
    const patterns = asArray(dig(styles, 'fills').fill).map((f) => dig(f, 'patternFill')['@_patternType']);
    assert.deepEqual(patterns, ['none', 'gray125']);
    for (const list of ['fonts', 'fills', 'borders', 'cellStyleXfs', 'cellXfs']) {
      const node = dig(styles, list);
      assert.equal(Number(node['@_count']), childElementCount(node), `${list} count attribute`);
    }
  });

  it('blank.pptx is 16:9 with one slide and a complete theme', async () => {
    const parts = partsOf(await readFile(templatePath('presentation')));
    const presentation = dig(parse(parts.get('ppt/presentation.xml') ?? ''), 'p:presentation');
    const size = dig(presentation, 'p:sldSz');
    assert.deepEqual([size['@_cx'], size['@_cy']], ['12192000', '6858000']);
    assert.equal(asArray(dig(presentation, 'p:sldIdLst')['p:sldId']).length, 1);
    assert.ok(dig(presentation, 'p:notesSz'));
    const fmt = dig(parse(parts.get('ppt/theme/theme1.xml') ?? ''), 'a:theme', 'a:themeElements', 'a:fmtScheme');
    for (const list of ['a:fillStyleLst', 'a:lnStyleLst', 'a:effectStyleLst', 'a:bgFillStyleLst']) {
      assert.equal(childElementCount(dig(fmt, list)), 3, `${list} needs 3 entries`);
    }
  });

  it('templatePath is absolute and openTemplate streams the same bytes', async () => {
    for (const template of TEMPLATES) {
      const path = templatePath(template.kind);
      assert.ok(isAbsolute(path), path);
      assert.ok(path.endsWith(template.file), path);
      assert.ok(template.file.endsWith(template.ext));
      const chunks: Buffer[] = [];
      for await (const chunk of openTemplate(template.kind)) chunks.push(chunk as Buffer);
      assert.deepEqual(Buffer.concat(chunks), await readFile(path));
    }
  });

  it('scripts/make-templates.ts reproduces the committed files byte for byte', async (t) => {
    const out = await mkdtemp(join(tmpdir(), 'quire-templates-'));
    t.after(() => rm(out, { recursive: true, force: true }));
    const run = await runProcess(process.execPath, ['--import', 'tsx', MAKE_TEMPLATES, out], 60_000);
    assert.equal(run.code, 0, run.output);
    assert.deepEqual((await readdir(out)).sort(), TEMPLATES.map((t) => t.file).sort());
    for (const template of TEMPLATES) {
      const fresh = await readFile(join(out, template.file));
      assert.ok(fresh.equals(await readFile(templatePath(template.kind))), `${template.file} differs when rebuilt`);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// LibreOffice: the import filter is forced, because without it LibreOffice "converts" even a file it cannot read
// (it falls back to importing it as plain text) and still writes a PDF.

const LIBREOFFICE = await findExecutable(['libreoffice', 'soffice']);
const LIBREOFFICE_TIMEOUT_MS = 120_000;

const IMPORT_FILTER: Record<TemplateKind, string> = {
  document: 'MS Word 2007 XML',
  spreadsheet: 'Calc MS Excel 2007 XML',
  presentation: 'Impress MS PowerPoint 2007 XML',
};

/** What LibreOffice must have read from each template, checked in the file it writes back. */
const ROUND_TRIP_FACT: Record<TemplateKind, { part: string; pattern: RegExp }> = {
  document: { part: 'word/document.xml', pattern: /<w:pgSz w:w="11906" w:h="16838"/ },
  spreadsheet: { part: 'xl/workbook.xml', pattern: /<sheet name="Sheet1"/ },
  presentation: { part: 'ppt/presentation.xml', pattern: /<p:sldSz cx="12192000" cy="6858000"/ },
};

/** Page size in points LibreOffice must print: A4 for the document, 13.333 × 7.5 in for the slides. */
const PDF_PAGE: Partial<Record<TemplateKind, [number, number]>> = {
  document: [595.3, 841.9],
  presentation: [960, 540],
};

describe('blank templates open in LibreOffice', {
  skip: LIBREOFFICE
    ? false
    : 'LibreOffice is not installed (apt-get install libreoffice-writer libreoffice-calc libreoffice-impress)',
}, () => {
  const scratch: string[] = [];
  after(() => Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true }))));

  /** Converts with a fresh user profile each time, so runs in parallel do not share (and lock) one profile. */
  async function convert(kind: TemplateKind, to: string, file = templatePath(kind)): Promise<Buffer> {
    const work = await mkdtemp(join(tmpdir(), 'quire-lo-'));
    scratch.push(work);
    const outDir = join(work, 'out');
    const args = [
      `-env:UserInstallation=${pathToFileURL(join(work, 'profile')).href}`,
      '--headless',
      '--norestore',
      `--infilter=${IMPORT_FILTER[kind]}`,
      '--convert-to',
      to,
      '--outdir',
      outDir,
      file,
    ];
    const run = await runProcess(LIBREOFFICE as string, args, LIBREOFFICE_TIMEOUT_MS);
    assert.equal(run.code, 0, run.output);
    const written = await readdir(outDir).catch(() => []);
    assert.equal(written.length, 1, `LibreOffice wrote no ${to} file:\n${run.output}`);
    return readFile(join(outDir, written[0] as string));
  }

  for (const template of TEMPLATES) {
    it(`converts ${template.file} to PDF and back to ${template.ext}`, async () => {
      const pdf = await convert(template.kind, 'pdf');
      assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
      const expected = PDF_PAGE[template.kind];
      if (expected) {
        const box = /\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/.exec(pdf.toString('latin1'));
        assert.ok(box, 'no page size in the PDF');
        const [width, height] = [Number(box[1]), Number(box[2])];
        assert.ok(Math.abs(width - expected[0]) < 1 && Math.abs(height - expected[1]) < 1, `page ${width}×${height}`);
      }

      const again = partsOf(await convert(template.kind, template.ext.slice(1)));
      const fact = ROUND_TRIP_FACT[template.kind];
      assert.match(again.get(fact.part) ?? '', fact.pattern, `${fact.part} as LibreOffice wrote it back`);
    });
  }

  it('refuses a file that is not a document, so the conversions above prove something', async () => {
    const work = await mkdtemp(join(tmpdir(), 'quire-lo-bad-'));
    scratch.push(work);
    const broken = join(work, 'broken.docx');
    await writeFile(broken, 'not a zip file\n');
    await assert.rejects(convert('document', 'pdf', broken), /wrote no pdf file/);
  });
});

// ---------------------------------------------------------------------------------------------------------------

async function findExecutable(names: string[]): Promise<string | undefined> {
  for (const name of names) {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      if (!dir) continue;
      const candidate = join(dir, name);
      try {
        await access(candidate, constants.X_OK);
        return candidate;
      } catch {}
    }
  }
  return undefined;
}

/** Runs a command to completion; on timeout ends its whole process group (LibreOffice forks soffice.bin). */
function runProcess(command: string, args: string[], timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const timer = setTimeout(() => {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
      reject(new Error(`${command} timed out after ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, output });
    });
  });
}
