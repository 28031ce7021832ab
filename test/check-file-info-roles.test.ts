import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { permissionsOf } from '../src/access/roles.ts';
import { type Permissions, READ_ONLY, type TokenRole } from '../src/auth/tokens.ts';
import type { Flavour } from '../src/discovery/flavour.ts';
import type { ShareLink } from '../src/storage/types.ts';
import { startHost, type TestHost, type WopiClient } from './helpers/host.ts';

/**
 * The CheckFileInfo properties that say what the caller may do and see. Each case below asserts exactly which of them
 * an editor flavour gets, and with which values: a property missing from an expectation must be missing from the
 * answer (DownloadUrl and FileUrl never appear, least of all under secure view).
 */
const MAPPED = [
  'UserId',
  'UserFriendlyName',
  'IsAnonymousUser',
  'UserCanWrite',
  'ReadOnly',
  'UserCanRename',
  'UserCanReview',
  'UserCanNotWriteRelative',
  'UserCanOnlyComment',
  'IsAdminUser',
  'EnableOwnerTermination',
  'WatermarkText',
  'DisablePrint',
  'HidePrintOption',
  'DisableExport',
  'HideExportOption',
  'HideSaveOption',
  'DisableCopy',
  'CopyPasteRestrictions',
  'DisableTranslation',
  'DisableBrowserCachingOfUserContent',
  'DownloadAsPostMessage',
  'DownloadUrl',
  'FileUrl',
] as const;

// biome-ignore lint/suspicious/noExplicitAny: the parsed CheckFileInfo JSON
const mapped = (info: any) => Object.fromEntries(MAPPED.filter((k) => k in info).map((k) => [k, info[k]]));

const OWNER = 'olivia';
/** A token that may save the document and nothing else: what comment-only mode needs. */
const SAVES: Permissions = { ...READ_ONLY, write: true };
const WATERMARK = 'Confidential · Vera Viewer · 2026-01-01';

type Case =
  | 'viewer'
  | 'commenter'
  | 'commenterSaving'
  | 'editor'
  | 'owner'
  | 'admin'
  | 'anonymousGuest'
  | 'namedGuest'
  | 'secureViewer'
  | 'secureEditor';

const READS = {
  UserCanWrite: false,
  ReadOnly: true,
  UserCanRename: false,
  UserCanReview: false,
  UserCanNotWriteRelative: true,
};
const EDITS = {
  UserCanWrite: true,
  ReadOnly: false,
  UserCanRename: true,
  UserCanReview: true,
  UserCanNotWriteRelative: false,
};
/** Who each case is, as WOPI shows them. */
const WHO: Record<Case, { UserId: string; UserFriendlyName: string; IsAnonymousUser: boolean }> = {
  viewer: { UserId: 'vera', UserFriendlyName: 'Vera Viewer', IsAnonymousUser: false },
  commenter: { UserId: 'cora', UserFriendlyName: 'Cora Commenter', IsAnonymousUser: false },
  commenterSaving: { UserId: 'cora', UserFriendlyName: 'Cora Commenter', IsAnonymousUser: false },
  editor: { UserId: 'eddie', UserFriendlyName: 'Eddie Editor', IsAnonymousUser: false },
  owner: { UserId: OWNER, UserFriendlyName: 'Olivia Owner', IsAnonymousUser: false },
  admin: { UserId: 'ada', UserFriendlyName: 'Ada Admin', IsAnonymousUser: false },
  anonymousGuest: { UserId: 'guest-anon-1', UserFriendlyName: 'Guest', IsAnonymousUser: true },
  namedGuest: { UserId: 'guest-gita', UserFriendlyName: 'Gita Guest', IsAnonymousUser: false },
  secureViewer: { UserId: 'vera', UserFriendlyName: 'Vera Viewer', IsAnonymousUser: false },
  secureEditor: { UserId: 'eddie', UserFriendlyName: 'Eddie Editor', IsAnonymousUser: false },
};
/** What each case may do, whatever the editor. */
const BASE: Record<Case, Record<string, unknown>> = {
  viewer: { ...WHO.viewer, ...READS },
  commenter: { ...WHO.commenter, ...READS },
  // the token may save (the comments), the editor is still told the document is not to be edited
  commenterSaving: { ...WHO.commenterSaving, ...READS },
  editor: { ...WHO.editor, ...EDITS },
  owner: { ...WHO.owner, ...EDITS },
  admin: { ...WHO.admin, ...EDITS },
  anonymousGuest: { ...WHO.anonymousGuest, ...EDITS },
  namedGuest: { ...WHO.namedGuest, ...READS },
  secureViewer: { ...WHO.secureViewer, ...READS },
  // an editor under secure view edits, but may not Save As a copy of their own
  secureEditor: { ...WHO.secureEditor, ...EDITS, UserCanNotWriteRelative: true },
};

const COLLABORA_OPEN = {
  HidePrintOption: false,
  HideSaveOption: false,
  HideExportOption: false,
  DisablePrint: false,
  DisableExport: false,
  DisableCopy: false,
};
const COLLABORA_SECURE = {
  HidePrintOption: true,
  HideExportOption: true,
  DisablePrint: true,
  DisableExport: true,
  DisableCopy: true,
};
const collabora = (c: Case, extra: Record<string, unknown> = {}) => ({
  ...BASE[c],
  IsAdminUser: false,
  EnableOwnerTermination: false,
  ...COLLABORA_OPEN,
  ...extra,
});

const EXPECTED: Record<Flavour, Record<Case, Record<string, unknown>>> = {
  onlyoffice: {
    viewer: BASE.viewer,
    commenter: BASE.commenter,
    commenterSaving: { ...BASE.commenterSaving, UserCanOnlyComment: true },
    editor: BASE.editor,
    owner: BASE.owner,
    admin: BASE.admin,
    anonymousGuest: BASE.anonymousGuest,
    namedGuest: { ...BASE.namedGuest, UserCanOnlyComment: true },
    secureViewer: {
      ...BASE.secureViewer,
      DisablePrint: true,
      HidePrintOption: true,
      CopyPasteRestrictions: 'BlockAll',
    },
    secureEditor: {
      ...BASE.secureEditor,
      DisablePrint: true,
      HidePrintOption: true,
      CopyPasteRestrictions: 'BlockAll',
    },
  },
  collabora: {
    viewer: collabora('viewer'),
    commenter: collabora('commenter'),
    commenterSaving: collabora('commenterSaving', { UserCanOnlyComment: true }),
    editor: collabora('editor'),
    owner: collabora('owner', { EnableOwnerTermination: true }),
    admin: collabora('admin', { IsAdminUser: true, EnableOwnerTermination: true }),
    anonymousGuest: collabora('anonymousGuest'),
    namedGuest: collabora('namedGuest', { UserCanOnlyComment: true }),
    secureViewer: collabora('secureViewer', { ...COLLABORA_SECURE, HideSaveOption: true, WatermarkText: WATERMARK }),
    secureEditor: collabora('secureEditor', { ...COLLABORA_SECURE, HideSaveOption: false, WatermarkText: '' }),
  },
  microsoft: {
    viewer: BASE.viewer,
    commenter: BASE.commenter,
    commenterSaving: BASE.commenterSaving,
    editor: BASE.editor,
    owner: BASE.owner,
    admin: BASE.admin,
    anonymousGuest: BASE.anonymousGuest,
    namedGuest: BASE.namedGuest,
    secureViewer: {
      ...BASE.secureViewer,
      DisablePrint: true,
      DisableTranslation: true,
      CopyPasteRestrictions: 'BlockAll',
    },
    secureEditor: {
      ...BASE.secureEditor,
      DisablePrint: true,
      DisableTranslation: true,
      CopyPasteRestrictions: 'BlockAll',
    },
  },
  generic: {
    viewer: BASE.viewer,
    commenter: BASE.commenter,
    commenterSaving: BASE.commenterSaving,
    editor: BASE.editor,
    owner: BASE.owner,
    admin: BASE.admin,
    anonymousGuest: BASE.anonymousGuest,
    namedGuest: BASE.namedGuest,
    secureViewer: { ...BASE.secureViewer, DisablePrint: true, CopyPasteRestrictions: 'BlockAll' },
    secureEditor: { ...BASE.secureEditor, DisablePrint: true, CopyPasteRestrictions: 'BlockAll' },
  },
};

interface Holder {
  userId: string;
  userName: string;
  role: TokenRole;
  /** The role's own (access/roles.ts) unless given. */
  permissions?: Permissions;
  isAdmin?: boolean;
  anonymous?: boolean;
  linkId?: string;
  watermark?: string;
}

/** A client for `fileId` with a token minted for `who` (by default with the role's permissions, as pages mint them). */
async function clientFor(host: TestHost, fileId: string, who: Holder): Promise<WopiClient> {
  const { role, permissions = permissionsOf(role), ...rest } = who;
  const minted = await host.quire.host.tokens.mint({ fileId, role, permissions, ...rest });
  return host.client(fileId, minted.access_token);
}

/** A live share link (tokens minted through a link are checked against it on every call). */
async function createLink(host: TestHost, fileId: string, role: ShareLink['role']): Promise<ShareLink> {
  const access = host.quire.host.storage.access;
  assert.ok(access, 'the storage keeps links');
  return access.createLink({
    id: `link-${randomBytes(12).toString('hex')}`,
    fileId,
    role,
    secureView: null,
    passwordHash: null,
    expiresAt: null,
    disabledAt: null,
    createdAt: host.clock.now(),
    createdBy: OWNER,
  });
}

const FLAVOURS: Flavour[] = ['onlyoffice', 'collabora', 'microsoft', 'generic'];

for (const flavour of FLAVOURS) {
  describe(`CheckFileInfo by role and secure view [${flavour}]`, () => {
    let host: TestHost;
    let fileId: string;
    /** Mints the case's token (guests through a real link) and asks CheckFileInfo over HTTP. */
    let ask: (c: Case) => Promise<Record<string, unknown>>;

    before(async () => {
      host = await startHost(flavour === 'generic' ? {} : { editor: { flavour } });
      assert.equal(host.quire.host.flavour(), flavour);
      fileId = await host.addFile('Quarterly Plan.docx', 'plan', OWNER);
      const editorLink = await createLink(host, fileId, 'editor');
      const commenterLink = await createLink(host, fileId, 'commenter');
      const holders: Record<Case, Holder> = {
        viewer: { userId: 'vera', userName: 'Vera Viewer', role: 'viewer' },
        commenter: { userId: 'cora', userName: 'Cora Commenter', role: 'commenter', permissions: READ_ONLY },
        commenterSaving: { userId: 'cora', userName: 'Cora Commenter', role: 'commenter', permissions: SAVES },
        editor: { userId: 'eddie', userName: 'Eddie Editor', role: 'editor' },
        owner: { userId: OWNER, userName: 'Olivia Owner', role: 'owner' },
        admin: { userId: 'ada', userName: 'Ada Admin', role: 'owner', isAdmin: true },
        // whatever name such a token carries, a guest who gave none is shown as "Guest"
        anonymousGuest: {
          userId: 'guest-anon-1',
          userName: 'guest-anon-1',
          role: 'editor',
          anonymous: true,
          linkId: editorLink.id,
        },
        namedGuest: {
          userId: 'guest-gita',
          userName: 'Gita Guest',
          role: 'commenter',
          permissions: SAVES,
          linkId: commenterLink.id,
        },
        secureViewer: { userId: 'vera', userName: 'Vera Viewer', role: 'viewer', watermark: WATERMARK },
        secureEditor: { userId: 'eddie', userName: 'Eddie Editor', role: 'editor', watermark: '' },
      };
      ask = async (c) => {
        const res = await (await clientFor(host, fileId, holders[c])).checkFileInfo();
        assert.equal(res.status, 200, res.text);
        return res.json;
      };
    });
    after(() => host.close());

    const cases: Array<[Case, string]> = [
      ['viewer', 'a viewer reads only'],
      ['commenter', 'a commenter whose token may not save reads only (the comments could not be saved)'],
      ['commenterSaving', "a commenter whose token may save gets the editor's comment-only mode, or reads only"],
      ['editor', 'an editor writes, renames and saves copies, without owner powers'],
      ['owner', "the owner writes; Collabora lets the owner's session end everyone's"],
      ['admin', 'an admin with the owner role is an admin user to Collabora'],
      ['anonymousGuest', 'an anonymous guest on an editor link is anonymous and shown as "Guest"'],
      ['namedGuest', 'a named guest on a commenter link is shown by name and comments'],
      ['secureViewer', "secure view: watermark, no print, export or copy, the options hidden, in each editor's terms"],
      ['secureEditor', 'secure view for an editor: still writes, but neither Save As nor print, export or copy'],
    ];
    for (const [c, title] of cases) {
      it(title, async () => {
        assert.deepEqual(mapped(await ask(c)), EXPECTED[flavour][c]);
      });
    }

    it('answers each token from its own grant: the same token twice alike, two roles apart', async () => {
      const viewer = await clientFor(host, fileId, { userId: 'sam', userName: 'Sam', role: 'viewer' });
      const first = await viewer.checkFileInfo();
      const again = await viewer.checkFileInfo();
      assert.equal(again.text, first.text);
      const secure = await clientFor(host, fileId, { userId: 'sam', userName: 'Sam', role: 'viewer', watermark: 'W' });
      const secureInfo = (await secure.checkFileInfo()).json;
      assert.equal(first.json.DisablePrint ?? false, false);
      assert.equal(secureInfo.DisablePrint, true);
      assert.equal((await viewer.checkFileInfo()).text, first.text, 'the secure answer did not replace the plain one');
    });

    it('keeps the answer of a token with bare permissions (no role, no guest, no secure view) as before', async () => {
      const info = (await (await host.client(fileId)).checkFileInfo()).json;
      assert.equal(info.IsAnonymousUser, false);
      assert.equal(info.UserFriendlyName, 'Alice Example');
      assert.equal(info.UserCanNotWriteRelative, false);
      assert.equal(info.UserCanOnlyComment, undefined);
      assert.equal(info.WatermarkText, undefined);
      assert.equal(info.CopyPasteRestrictions, undefined);
      if (flavour === 'collabora') {
        assert.deepEqual(
          mapped(info),
          collabora('editor', { UserId: 'alice', UserFriendlyName: 'Alice Example', UserCanNotWriteRelative: false }),
        );
      }
    });
  });
}
