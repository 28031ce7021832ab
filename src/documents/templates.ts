import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

/**
 * The blank files a new document starts from. They are built by scripts/make-templates.ts and shipped in the
 * repository's templates/ folder.
 */
export const TEMPLATES = [
  { kind: 'document', label: 'Document', ext: '.docx', file: 'blank.docx' },
  { kind: 'spreadsheet', label: 'Spreadsheet', ext: '.xlsx', file: 'blank.xlsx' },
  { kind: 'presentation', label: 'Presentation', ext: '.pptx', file: 'blank.pptx' },
] as const;

export type TemplateKind = (typeof TEMPLATES)[number]['kind'];
export type Template = (typeof TEMPLATES)[number];

const TEMPLATES_DIR = new URL('../../templates/', import.meta.url);

export function isTemplateKind(value: unknown): value is TemplateKind {
  return TEMPLATES.some((t) => t.kind === value);
}

export function templateFor(kind: TemplateKind): Template {
  const template = TEMPLATES.find((t) => t.kind === kind);
  // Unreachable for typed callers; guards against an unchecked string arriving from JavaScript.
  if (!template) throw new Error(`unknown template kind: ${String(kind)}`);
  return template;
}

/** Absolute path of the template file for `kind`. */
export function templatePath(kind: TemplateKind): string {
  return fileURLToPath(new URL(templateFor(kind).file, TEMPLATES_DIR));
}

export function openTemplate(kind: TemplateKind): Readable {
  return createReadStream(templatePath(kind));
}
