import type { Grant } from '../../auth/tokens.ts';
import type { Flavour } from '../../discovery/flavour.ts';
import type { FileRecord } from '../../storage/types.ts';
import type { WopiHost } from '../context.ts';
import { isSecureView } from './common.ts';

/**
 * Which editors are given CheckFileInfo's FileUrl, a URL the editor fetches the bytes from instead of calling
 * GetFile (Microsoft's CheckFileInfo reference: used exactly as given, never with the access token or other
 * parameters added, never signed with proof keys; GetFile must keep working beside it). What each editor does with
 * it, read in its code:
 *
 * - ONLYOFFICE Docs: its converter downloads the document from FileUrl when the first editor opens it (wopiUtils.js
 *   `getWopiFileUrl`), with no proof-key headers and no access token, and does not fall back to GetFile when that
 *   download fails. The URL is kept in DocService's own database, not shown to the browser: the default
 *   `wopi.fileInfoBlockList` ["FileUrl"] takes it out of the editor config the browser gets. Given.
 * - Collabora Online: tries FileUrl first and falls back to GetFile on any failure (WopiStorage.cpp
 *   `downloadStorageFileToLocal`), but sends `Authorization: Bearer <access token>` with it, as with every storage
 *   request. A presigned S3 URL carries its own authorization, so the bucket refuses such a request (Ceph RGW: 400
 *   InvalidArgument; AWS: "only one auth mechanism allowed"): every open would hand the access token to the bucket
 *   and then call GetFile anyway. Not given.
 * - Microsoft 365 for the web: uses FileUrl instead of GetFile as its reference says. Given; its servers must reach
 *   the bucket over the internet.
 * - A client Quire does not recognise: GetFile is the one way every client reads. Not given.
 */
export const FILE_URL_FLAVOURS: Readonly<Record<Flavour, boolean>> = {
  onlyoffice: true,
  collabora: false,
  microsoft: true,
  generic: false,
};

/**
 * The FileUrl for `file` as CheckFileInfo describes it, or undefined: when FileUrl is off (no fileUrlTtlSeconds), the
 * blob store cannot presign, the editor is not given one (FILE_URL_FLAVOURS), or the token is for secure view. A
 * secure view shows the document without handing it over: its bytes reach the editor only through GetFile, where
 * every read is checked against the token's grant (revocable within a second) and logged, never through a URL
 * that cannot be revoked.
 *
 * The URL names the blob of the version CheckFileInfo reports (the same state's blob key), and blobs are content
 * addressed: it gives exactly that version's bytes, before and after later saves, until it expires.
 */
export async function fileUrlFor(
  host: WopiHost,
  flavour: Flavour,
  grant: Grant,
  file: FileRecord,
): Promise<string | undefined> {
  const ttl = host.config.fileUrlTtlSeconds ?? 0;
  const { blobs } = host.storage;
  if (ttl <= 0 || !blobs.urlFor || !FILE_URL_FLAVOURS[flavour] || isSecureView(grant)) return undefined;
  return blobs.urlFor(file.blobKey, ttl);
}
