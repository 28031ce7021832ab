import type { FileHandle, WopiCalls } from './client.ts';
import { handleFromUrl } from './client.ts';
import { expectSetup, jsonBody } from './expect.ts';
import type { Exchange } from './http.ts';

/** What a rule needs the host (and the token) to support; CheckFileInfo says which are there. */
export type Need = 'locks' | 'getLock' | 'write' | 'update' | 'writeRelative' | 'rename';

/** One rule of the protocol, checked by a few requests. */
export interface Rule {
  /** Stable, for scripts: `area.what-is-checked`. */
  id: string;
  /** The rule in one line. */
  statement: string;
  /** Where the rule comes from (a spec page, Microsoft's reference, what the editors send). */
  source: string;
  needs: readonly Need[];
  run(ctx: CheckContext): Promise<void>;
}

/**
 * Why CheckFileInfo rules a need out, or null when it does not. WOPI's CheckFileInfo booleans default to false,
 * so a host that does not say it supports something is taken at its word.
 */
export function missingNeed(need: Need, info: Record<string, unknown>): string | null {
  const says = (name: string) => info[name] === true;
  switch (need) {
    case 'locks':
      return says('SupportsLocks') ? null : 'CheckFileInfo does not say SupportsLocks: true';
    case 'getLock':
      return says('SupportsGetLock') ? null : 'CheckFileInfo does not say SupportsGetLock: true';
    case 'write':
      return says('UserCanWrite') ? null : 'the token may not write (CheckFileInfo: UserCanWrite is not true)';
    case 'update':
      return says('SupportsUpdate') ? null : 'CheckFileInfo does not say SupportsUpdate: true';
    case 'writeRelative':
      return info.UserCanNotWriteRelative === true ? 'CheckFileInfo says UserCanNotWriteRelative: true' : null;
    case 'rename':
      if (!says('SupportsRename')) return 'CheckFileInfo does not say SupportsRename: true';
      return says('UserCanRename') ? null : 'the token may not rename (CheckFileInfo: UserCanRename is not true)';
  }
}

/** Splits "Report.docx" into "Report" and ".docx" (RenameFile names come without the extension). */
export function splitName(name: string): { base: string; ext: string } {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? { base: name, ext: '' } : { base: name.slice(0, dot), ext: name.slice(dot) };
}

/**
 * What every rule works with: the file under test, the calls, fresh names and lock ids, and the bookkeeping that
 * lets the runner undo what rules leave behind (locks taken, files created).
 */
export class CheckContext {
  /** Locks rules took, released by the runner after each rule whatever its verdict. */
  readonly heldLocks: Array<{ file: FileHandle; lock: string }> = [];
  /** Files PutRelativeFile made, deleted at the end; by name for the report. */
  readonly created: Array<{ file: FileHandle; name: string }> = [];
  /** Tokens the host handed out (in PutRelativeFile's Url): scrubbed from the output like the one given. */
  readonly secrets: Set<string>;
  private counter = 0;

  constructor(
    readonly calls: WopiCalls,
    readonly file: FileHandle,
    /** CheckFileInfo as the check started. */
    readonly info: Record<string, unknown>,
    /** The file's bytes as the check started: put back at the end. */
    readonly original: Buffer,
    readonly runId: string,
  ) {
    this.secrets = new Set([file.token]);
  }

  /** The extension of the file under test ("" when it has none): files the check creates take it too. */
  get extension(): string {
    return splitName(String(this.info.BaseFileName ?? '')).ext;
  }

  /** A name, lock id or content no other run and no other step uses. */
  unique(label: string): string {
    this.counter += 1;
    return `quire-check-${this.runId}-${this.counter}-${label}`;
  }

  /** Distinct bytes for a write, so that reading them back proves which write landed. */
  content(label: string): Buffer {
    return Buffer.from(`${this.unique(label)}: written by quire check\n`);
  }

  /** Locks `file` with `lock` as a setup step, remembering it for release. */
  async lock(file: FileHandle, lock: string, what = 'Lock'): Promise<Exchange> {
    const ex = await this.calls.lock(file, lock);
    this.holding(file, lock);
    expectSetup(ex, what);
    return ex;
  }

  /** Remembers a lock a request may have taken, so the runner releases it. */
  holding(file: FileHandle, lock: string): void {
    this.heldLocks.push({ file, lock });
  }

  /** Current bytes of `file`, as a setup step. */
  async read(file: FileHandle = this.file): Promise<Buffer> {
    const ex = await this.calls.getFile(file);
    expectSetup(ex, 'GetFile');
    return ex.response.body;
  }

  /** Current CheckFileInfo of `file`, as a setup step. */
  async fileInfo(file: FileHandle = this.file): Promise<{ ex: Exchange; info: Record<string, unknown> }> {
    const ex = await this.calls.checkFileInfo(file);
    expectSetup(ex, 'CheckFileInfo');
    return { ex, info: jsonBody(ex, 'CheckFileInfo') };
  }

  /** Gives the file `bytes` under a lock of its own (Lock, PutFile, Unlock), as a setup step. */
  async setContent(bytes: Buffer): Promise<void> {
    const lock = this.unique('setup-lock');
    await this.lock(this.file, lock, 'Lock (to set the content)');
    expectSetup(await this.calls.putFile(this.file, bytes, lock), 'PutFile (to set the content)');
    expectSetup(await this.calls.unlock(this.file, lock), 'Unlock (after setting the content)');
  }

  /**
   * Remembers a file a PutRelativeFile answer names, for deletion at the end; returns its handle, or null when
   * the answer names none the check can use.
   */
  recordCreated(ex: Exchange): FileHandle | null {
    if (ex.response.status !== 200) return null;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(ex.response.body.toString('utf8'));
    } catch {
      return null;
    }
    const file = typeof body.Url === 'string' ? handleFromUrl(body.Url) : null;
    if (!file) return null;
    this.secrets.add(file.token);
    this.created.push({ file, name: typeof body.Name === 'string' ? body.Name : '(unnamed)' });
    return file;
  }
}
