import { allows } from '../access/policy.ts';
import { badRequest, conflict, notImplemented, QuireError } from '../core/errors.ts';
import { illegalNameReason, makeLegalName, nonClobberingNames, splitExtension } from '../documents/names.ts';
import type { FileRecord, FileState, NewVersion } from '../storage/types.ts';
import { NameTakenError } from '../storage/types.ts';
import type { WopiHost, WopiRequest, WopiResult } from './context.ts';
import { EVENT, eventOf } from './events.ts';
import { loadState, receiveBody } from './file-state.ts';
import { H } from './headers.ts';
import { assertLockHolder, assertUnlocked } from './lock-rules.ts';
import { encodeNameHeader } from './name-header.ts';
import { booleanHeader, nameHeader, optionalLock, sizeHeader } from './request-headers.ts';
import { refuseKeepingBlob, refuseKeepingBody } from './rescue.ts';

/** ".pdf" alone (no other dot, no path): an extension to put on the source's base name. */
const EXTENSION_ONLY = /^\.[^./\\]+$/;

/** The name X-WOPI-SuggestedTarget asks for, made legal; the host may still add " (n)" to avoid clobbering. */
export function resolveSuggestedName(suggestion: string, sourceName: string): string {
  const sourceBase = splitExtension(sourceName).base;
  const wanted = EXTENSION_ONLY.test(suggestion) ? sourceBase + suggestion : suggestion;
  return makeLegalName(wanted, sourceBase);
}

function assertLegalTarget(name: string): string {
  const reason = illegalNameReason(name);
  if (reason) throw badRequest(`${H.relativeTarget}: ${reason}`, { [H.invalidFileNameError]: reason });
  return name;
}

/** A target that must not be overwritten exists: 409 with a name the host would accept instead. */
async function targetExists(host: WopiHost, name: string): Promise<QuireError> {
  let free = name;
  for (const candidate of nonClobberingNames(name)) {
    if (!(await host.storage.catalog.findByName(candidate))) {
      free = candidate;
      break;
    }
  }
  return new QuireError(409, `a file named ${JSON.stringify(name)} exists`, {
    headers: { [H.validRelativeTarget]: encodeNameHeader(free) },
  });
}

const assertTargetUnlocked = (state: FileState) => assertUnlocked(state, 'target file is locked');

/** Whether the token's holder may edit `file` (the access policy, for a person Quire knows or only by id). */
async function mayEdit(host: WopiHost, req: WopiRequest, file: FileRecord): Promise<boolean> {
  const { grant } = req;
  if (grant.linkId !== undefined) return false;
  const known = await host.storage.users?.findById(grant.userId);
  const user = known ?? {
    id: grant.userId,
    name: grant.userId,
    displayName: grant.userName,
    isAdmin: grant.isAdmin === true,
    createdAt: 0,
  };
  return allows(host.access, { kind: 'user', user }, file, 'editor');
}

/**
 * PutRelativeFile (POST /wopi/files/{id}, X-WOPI-Override: PUT_RELATIVE): a new file from the body, next to the
 * source. X-WOPI-SuggestedTarget lets the host adjust the name; Microsoft's X-WOPI-RelativeTarget does not.
 */
export async function putRelativeFile(host: WopiHost, req: WopiRequest): Promise<WopiResult> {
  if (!req.grant.permissions.writeRelative)
    throw notImplemented('this token may not create files (UserCanNotWriteRelative)');
  // a copy would be the holder's own, out of secure view's reach
  if (req.grant.watermark !== undefined)
    throw notImplemented('this document is shared for viewing only: no copies (UserCanNotWriteRelative)');
  const suggested = req.header(H.suggestedTarget);
  const relative = req.header(H.relativeTarget);
  if (suggested !== undefined && relative !== undefined) {
    throw notImplemented(`${H.suggestedTarget} and ${H.relativeTarget} must not both be present`);
  }
  if (!suggested && !relative) throw badRequest(`${H.suggestedTarget} or ${H.relativeTarget} is required`);

  const source = await loadState(host, req);
  const lock = optionalLock(req);
  const declaredSize = sizeHeader(req, H.size);
  const fileConversion = booleanHeader(req, H.fileConversion);
  const overwrite = booleanHeader(req, H.overwriteRelativeTarget) ?? false;
  // what a body refused for a lock is kept as, beside the source (wopi/rescue.ts)
  const shape = {
    authorId: req.grant.userId,
    flags: fileConversion === undefined ? {} : { fileConversion },
    source: 'put-relative' as const,
    lock,
  };
  // Only a request that names a lock is refused for the source's lock: ONLYOFFICE's "Save Copy As" sends none
  // while it holds the lock, and copying does not change the source.
  try {
    if (lock !== undefined) assertLockHolder(source, lock);
  } catch (refusal) {
    return refuseKeepingBody(host, req, refusal, shape, declaredSize);
  }

  let exactName: string | undefined;
  let suggestedName: string | undefined;
  /** The file overwriting may replace: the one whose rights were checked (another holder of the name is refused). */
  let approvedTarget: string | undefined;
  if (relative) {
    exactName = assertLegalTarget(nameHeader(req, H.relativeTarget) as string);
    // Fail before reading the body; the same checks run again where the file is written.
    const existing = await host.storage.catalog.findByName(exactName);
    if (existing) {
      // overwriting is editing the target: the caller needs that right on it (answered as "exists", like no overwrite)
      if (!overwrite || !(await mayEdit(host, req, existing))) throw await targetExists(host, exactName);
      approvedTarget = existing.id;
      const state = await host.storage.catalog.getState(existing.id, host.clock.now());
      try {
        if (state) assertTargetUnlocked(state);
      } catch (refusal) {
        return refuseKeepingBody(host, req, refusal, shape, declaredSize);
      }
    }
  } else {
    suggestedName = resolveSuggestedName(nameHeader(req, H.suggestedTarget) as string, source.file.name);
  }

  const blob = await receiveBody(host, req, declaredSize);
  const version: NewVersion = {
    blob,
    authorId: req.grant.userId,
    flags: fileConversion === undefined ? {} : { fileConversion },
    source: 'put-relative',
  };
  const now = host.clock.now();
  const owner = req.grant.userId;
  const catalog = host.storage.catalog;
  // the new file's own event, naming the file it was made from
  const created = (made: FileRecord, replaced = false) =>
    eventOf(
      req,
      replaced ? EVENT.saved : EVENT.created,
      { name: made.name, version: made.version, from: req.fileId, ...(fileConversion && { fileConversion }) },
      made.id,
    );
  let file: FileRecord;
  if (suggestedName !== undefined) {
    const names = nonClobberingNames(suggestedName);
    file = await catalog.createFile({ names, ownerId: owner, version, now, event: (made) => created(made) });
  } else if (overwrite) {
    const name = exactName as string;
    try {
      ({ file } = await catalog.replaceByName({
        name,
        ownerId: owner,
        version,
        now,
        guard: (state) => {
          if (state.file.id !== approvedTarget)
            throw conflict(`${JSON.stringify(name)} changed hands meanwhile: try again`);
          assertTargetUnlocked(state);
        },
        event: (r) => created(r.file, r.replaced),
      }));
    } catch (refusal) {
      return refuseKeepingBlob(host, req, refusal, blob, shape);
    }
  } else {
    const name = exactName as string;
    try {
      file = await catalog.createFile({ names: [name], ownerId: owner, version, now, event: (made) => created(made) });
    } catch (err) {
      if (err instanceof NameTakenError) throw await targetExists(host, name);
      throw err;
    }
  }

  const { access_token } = await host.tokens.mint({
    fileId: file.id,
    userId: req.grant.userId,
    userName: req.grant.userName,
    permissions: req.grant.permissions,
  });
  const url = new URL(host.urls.wopiSrc(file.id));
  url.searchParams.set('access_token', access_token);
  return {
    status: 200,
    json: {
      Name: file.name,
      Url: url.toString(),
      HostViewUrl: host.urls.hostPage(file.id, 'view'),
      HostEditUrl: host.urls.hostPage(file.id, 'edit'),
    },
  };
}
