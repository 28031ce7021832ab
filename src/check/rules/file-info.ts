import { H } from '../../wopi/headers.ts';
import { ensure, expectContent, expectStatus, header, jsonBody, SkipRule } from '../expect.ts';
import type { Rule } from '../rule.ts';

/** CheckFileInfo and GetFile: what every editor reads before anything else. */

const MS_CHECKFILEINFO = 'Microsoft WOPI REST, CheckFileInfo';

/** The properties Microsoft's reference requires of every CheckFileInfo answer, with their JSON types. */
const REQUIRED: ReadonlyArray<readonly [string, 'string' | 'integer']> = [
  ['BaseFileName', 'string'],
  ['OwnerId', 'string'],
  ['Size', 'integer'],
  ['UserId', 'string'],
  ['Version', 'string'],
];

export const fileInfoRules: Rule[] = [
  {
    id: 'checkfileinfo.required-properties',
    statement:
      'CheckFileInfo answers 200 with JSON holding BaseFileName, OwnerId, UserId, Version (strings) and Size (integer)',
    source: `${MS_CHECKFILEINFO}: required properties`,
    needs: [],
    async run(ctx) {
      const ex = await ctx.calls.checkFileInfo(ctx.file);
      expectStatus(ex, 200, 'CheckFileInfo');
      const info = jsonBody(ex, 'CheckFileInfo');
      const wrong: string[] = [];
      for (const [name, type] of REQUIRED) {
        const value = info[name];
        if (value === undefined) wrong.push(`${name} is missing`);
        else if (type === 'string' && (typeof value !== 'string' || value === ''))
          wrong.push(`${name} is ${JSON.stringify(value)}, not a non-empty string`);
        else if (type === 'integer' && !(Number.isSafeInteger(value) && (value as number) >= 0))
          wrong.push(`${name} is ${JSON.stringify(value)}, not a whole number of bytes`);
      }
      ensure(wrong.length === 0, `CheckFileInfo: ${wrong.join('; ')}`, ex);
    },
  },
  {
    id: 'checkfileinfo.size-matches-getfile',
    statement: "CheckFileInfo's Size is the number of bytes GetFile returns",
    source: `${MS_CHECKFILEINFO} (Size: the size of the file in bytes)`,
    needs: [],
    async run(ctx) {
      const { ex: infoEx, info } = await ctx.fileInfo();
      const file = await ctx.calls.getFile(ctx.file);
      expectStatus(file, 200, 'GetFile');
      ensure(
        info.Size === file.response.body.length,
        `CheckFileInfo says Size ${JSON.stringify(info.Size)}, GetFile returned ${file.response.body.length} bytes`,
        infoEx,
      );
    },
  },
  {
    id: 'getfile.item-version',
    statement: "GetFile's X-WOPI-ItemVersion, when sent, is CheckFileInfo's Version",
    source: 'Microsoft WOPI REST, GetFile (X-WOPI-ItemVersion)',
    needs: [],
    async run(ctx) {
      const { info } = await ctx.fileInfo();
      const ex = await ctx.calls.getFile(ctx.file);
      expectStatus(ex, 200, 'GetFile');
      const version = header(ex, H.itemVersion);
      if (version === undefined) throw new SkipRule(`the host sends no ${H.itemVersion} with GetFile`);
      ensure(
        version === String(info.Version),
        `GetFile's ${H.itemVersion} is ${JSON.stringify(version)}, CheckFileInfo's Version ${JSON.stringify(info.Version)}`,
        ex,
      );
    },
  },
  {
    id: 'checkfileinfo.file-url',
    statement:
      "When CheckFileInfo gives a FileUrl, a plain GET of it (no access token or other parameter added, no proof-key headers) answers 200 with exactly GetFile's bytes",
    source: `${MS_CHECKFILEINFO} (FileUrl: used as given instead of GetFile, which must keep working)`,
    needs: [],
    async run(ctx) {
      const { ex: infoEx, info } = await ctx.fileInfo();
      const url = info.FileUrl;
      if (url === undefined) throw new SkipRule('CheckFileInfo gives no FileUrl');
      ensure(typeof url === 'string' && /^https?:\/\//.test(url), 'FileUrl is not an http(s) URL', infoEx);
      // a presigned URL is a credential for as long as it lives: kept out of the report like the token
      ctx.secrets.add(url);
      const file = await ctx.calls.getFile(ctx.file);
      expectStatus(file, 200, 'GetFile');
      expectContent(await ctx.calls.fetchUrl(url), file.response.body, 'GET FileUrl');
    },
  },
  {
    id: 'auth.invalid-token',
    statement: 'A request with an access token the host never issued is refused with 401 or 404',
    source: 'Microsoft WOPI REST, CheckFileInfo status codes (401: invalid token; 404: unknown file or user)',
    needs: [],
    async run(ctx) {
      const ex = await ctx.calls.checkFileInfo({ ...ctx.file, token: `not-a-token-${ctx.runId}` });
      expectStatus(ex, [401, 404], 'CheckFileInfo with an invalid token');
    },
  },
];
