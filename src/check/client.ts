import { H, OVERRIDE } from '../wopi/headers.ts';
import { encodeNameHeader } from '../wopi/name-header.ts';
import type { Exchange, HttpSender } from './http.ts';

/**
 * The WOPI operations the check sends, one method each, as an editor would send them. Every method returns the
 * exchange whatever the status: judging it is the rules' job.
 */

/** A file on the host as the check addresses it: its WOPISrc (no query) and an access token for it. */
export interface FileHandle {
  wopiSrc: string;
  token: string;
}

/** The file a PutRelativeFile answer's Url names (the token travels in its query, as WOPI specifies). */
export function handleFromUrl(url: string): FileHandle | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  const token = parsed.searchParams.get('access_token');
  if (!token || !/^https?:$/.test(parsed.protocol)) return null;
  return { wopiSrc: `${parsed.origin}${parsed.pathname}`, token };
}

const withToken = (base: string, token: string) => `${base}?access_token=${encodeURIComponent(token)}`;

/** Header values for names: UTF-7, as WOPI asks for X-WOPI-SuggestedTarget, RelativeTarget and RequestedName. */
export const utf7 = encodeNameHeader;

export interface PutRelativeOptions {
  suggested?: string;
  relative?: string;
  overwrite?: boolean;
  lock?: string;
}

export class WopiCalls {
  constructor(private readonly http: HttpSender) {}

  private get(file: FileHandle, path: string): Promise<Exchange> {
    return this.http.send({
      method: 'GET',
      url: withToken(file.wopiSrc + path, file.token),
      headers: {},
      body: Buffer.alloc(0),
    });
  }

  private post(
    file: FileHandle,
    path: string,
    override: string,
    headers: Record<string, string | undefined>,
    body: Buffer = Buffer.alloc(0),
  ): Promise<Exchange> {
    const sent: Record<string, string> = { [H.override]: override };
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) sent[name] = value;
    return this.http.send({ method: 'POST', url: withToken(file.wopiSrc + path, file.token), headers: sent, body });
  }

  /** A plain GET of a URL the host handed out (CheckFileInfo's FileUrl): no token added, no other header. */
  fetchUrl(url: string): Promise<Exchange> {
    return this.http.send({ method: 'GET', url, headers: {}, body: Buffer.alloc(0) });
  }

  checkFileInfo(file: FileHandle): Promise<Exchange> {
    return this.get(file, '');
  }

  getFile(file: FileHandle): Promise<Exchange> {
    return this.get(file, '/contents');
  }

  lock(file: FileHandle, lock: string, oldLock?: string): Promise<Exchange> {
    return this.post(file, '', OVERRIDE.lock, { [H.lock]: lock, [H.oldLock]: oldLock });
  }

  getLock(file: FileHandle): Promise<Exchange> {
    return this.post(file, '', OVERRIDE.getLock, {});
  }

  refreshLock(file: FileHandle, lock: string): Promise<Exchange> {
    return this.post(file, '', OVERRIDE.refreshLock, { [H.lock]: lock });
  }

  unlock(file: FileHandle, lock: string): Promise<Exchange> {
    return this.post(file, '', OVERRIDE.unlock, { [H.lock]: lock });
  }

  putFile(file: FileHandle, body: Buffer, lock?: string): Promise<Exchange> {
    return this.post(file, '/contents', OVERRIDE.put, { [H.lock]: lock }, body);
  }

  putRelativeFile(file: FileHandle, body: Buffer, options: PutRelativeOptions): Promise<Exchange> {
    return this.post(
      file,
      '',
      OVERRIDE.putRelative,
      {
        [H.suggestedTarget]: options.suggested === undefined ? undefined : utf7(options.suggested),
        [H.relativeTarget]: options.relative === undefined ? undefined : utf7(options.relative),
        [H.overwriteRelativeTarget]: options.overwrite === undefined ? undefined : String(options.overwrite),
        [H.size]: String(body.length),
        [H.lock]: options.lock,
      },
      body,
    );
  }

  renameFile(file: FileHandle, requestedName: string, lock?: string): Promise<Exchange> {
    return this.post(file, '', OVERRIDE.renameFile, { [H.requestedName]: utf7(requestedName), [H.lock]: lock });
  }

  deleteFile(file: FileHandle): Promise<Exchange> {
    return this.post(file, '', OVERRIDE.deleteFile, {});
  }
}
