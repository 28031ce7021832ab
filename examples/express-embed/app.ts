import { createReadStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { type AccessRules, createQuire, type EmbeddedQuire, type User } from '../../src/index.ts';
import { Accounts, type AppUser, type NewAppUser, SESSION_COOKIE } from './accounts.ts';
import { documentsPage, type ListedDocument, signInPage } from './pages.ts';
import { fitsFolder } from './storage/head-files.ts';
import { type FolderStorage, openFolderStorage } from './storage/index.ts';

/** The demo's people: Alice is the app's admin (she may edit everything), Bob and Carol edit their own. */
export const DEMO_USERS: readonly NewAppUser[] = [
  { login: 'alice', fullName: 'Alice Archer', password: 'alice-wonderland', isAdmin: true },
  { login: 'bob', fullName: 'Bob Baker', password: 'bob-the-builder' },
  { login: 'carol', fullName: 'Carol Chen', password: 'carol-of-bells' },
];

/** What a fresh app starts with: a document of Alice's and one of Bob's, from Quire's blank templates. */
const SEED = [
  { name: 'Case notes.docx', owner: 'alice', template: 'blank.docx' },
  { name: 'Budget 2026.xlsx', owner: 'bob', template: 'blank.xlsx' },
];
const TEMPLATES = fileURLToPath(new URL('../../templates/', import.meta.url));

export interface AppOptions {
  /** Where everything lives: app.db, files/, .versions/, and quire/ (Quire's signing key). */
  root: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** The office editor (ONLYOFFICE Docs, Collabora Online) Quire opens documents in. */
  editorUrl?: string;
  users?: readonly NewAppUser[];
}

export interface RunningApp {
  url: string;
  quire: EmbeddedQuire;
  storage: FolderStorage;
  accounts: Accounts;
  close(): Promise<void>;
}

/**
 * The app's rule for who may do what, which Quire applies to its WOPI endpoint, host page and API alike: your own
 * documents are yours; the app's admins edit everyone's; everyone else may read them.
 */
export const casebookAccess: AccessRules = {
  async accessTo(subject, file) {
    if (subject.kind !== 'user') return null; // no share links in this app
    if (file.ownerId === subject.user.id) return { role: 'owner', via: 'owner', secureView: null };
    if (subject.user.isAdmin) return { role: 'editor', via: 'admin', secureView: null };
    return { role: 'viewer', via: 'app', secureView: null }; // the firm's rule, not a share
  },
  async visibleFileIds() {
    return null; // everyone sees the list
  },
};

/** Only a path on this site (not "//elsewhere"), so the sign-in form is no open redirect. */
const safeNext = (next: unknown) =>
  typeof next === 'string' && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';

export async function startApp(options: AppOptions): Promise<RunningApp> {
  await mkdir(options.root, { recursive: true });
  const accounts = new Accounts(join(options.root, 'app.db'));
  accounts.ensure(options.users ?? DEMO_USERS);
  const storage = await openFolderStorage({ root: options.root });

  const app = express();
  let quire: EmbeddedQuire | undefined;
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(options.port ?? 3000, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const url = `http://${options.host ?? '127.0.0.1'}:${port}`;

  try {
    quire = await createQuire({
      dataDir: join(options.root, 'quire'),
      publicUrl: `${url}/office`,
      storage,
      logger: false,
      ...(options.editorUrl && { editor: { url: options.editorUrl } }),
      // Quire asks the app who sent each request to its pages: the app's own sign-in cookie decides
      identify: async (req) => {
        const me = accounts.userOf(req);
        return me ? { name: me.login, displayName: me.fullName, isAdmin: me.isAdmin } : null;
      },
      access: casebookAccess,
    });
  } catch (err) {
    server.close();
    await storage.close();
    accounts.close();
    throw err;
  }
  const office = quire;
  const people = office.quire.accounts;
  if (!people) throw new Error('the storage keeps no people: identify needs Storage.users');

  /** Quire's record of an app user (its id owns documents and is in tokens), made on first need. */
  const personOf = async (user: AppUser): Promise<User> =>
    (await people.findByName(user.login)) ??
    people.create({ name: user.login, displayName: user.fullName, ...(user.isAdmin && { isAdmin: true }) });

  if ((await storage.catalog.listFiles()).length === 0) {
    const byLogin = new Map(accounts.list().map((u) => [u.login, u]));
    for (const doc of SEED) {
      const owner = byLogin.get(doc.owner);
      if (!owner) continue;
      await office.quire.addFile({
        source: createReadStream(join(TEMPLATES, doc.template)),
        name: doc.name,
        ownerId: (await personOf(owner)).id,
      });
    }
  }

  // Quire's pages send people who are not signed in to its /login: this app signs them in itself
  app.get('/office/login', (req, res) => {
    const next = typeof req.query.next === 'string' ? `/office${safeNext(req.query.next)}` : '/';
    res.redirect(303, `/login?next=${encodeURIComponent(next)}`);
  });
  // everything else under /office is Quire's, bodies unread (no body parser runs before it)
  app.use('/office', office.handler);

  app.get('/login', (req, res) => {
    res.type('html').send(signInPage({ next: safeNext(req.query.next) }));
  });
  app.post('/login', express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
    const { login, password, next } = (req.body ?? {}) as Record<string, unknown>;
    const signedIn =
      typeof login === 'string' && typeof password === 'string' ? accounts.signIn(login, password) : null;
    if (!signedIn) {
      res
        .status(401)
        .type('html')
        .send(
          signInPage({
            next: safeNext(next),
            error: 'That login and password do not match.',
            ...(typeof login === 'string' && { login }),
          }),
        );
      return;
    }
    res.cookie(SESSION_COOKIE, signedIn.token, { httpOnly: true, sameSite: 'lax', path: '/' });
    res.redirect(303, safeNext(next));
  });
  app.post('/logout', (req, res) => {
    accounts.signOut(req);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.redirect(303, '/login');
  });

  app.get('/', async (req, res) => {
    const me = accounts.userOf(req);
    if (!me) return res.redirect(303, '/login');
    const person = await personOf(me);
    const subject = { kind: 'user' as const, user: person };
    const owners = new Map((await people.list()).map((p) => [p.id, p.displayName]));
    const docs: ListedDocument[] = [];
    for (const { file, lock } of await storage.catalog.listStates(Date.now())) {
      const access = await casebookAccess.accessTo(subject, file);
      if (!access) continue;
      docs.push({
        id: file.id,
        name: file.name,
        owner: owners.get(file.ownerId) ?? 'someone',
        version: file.version,
        size: file.size,
        modifiedAt: file.modifiedAt,
        mayEdit: access.role === 'owner' || access.role === 'editor',
        lockedByEditor: lock !== null,
      });
    }
    res.type('html').send(documentsPage(me, docs));
  });

  // the rest of the app reads documents straight from the folder: files/<name> is always the newest version
  app.get('/download/:name', async (req, res) => {
    if (!accounts.userOf(req)) return res.redirect(303, '/login');
    const name = req.params.name;
    if (!fitsFolder(name) || !(await storage.catalog.findByName(name))) {
      return res.status(404).type('text').send('No such document.');
    }
    res.download(join(storage.filesDir, name), name, { dotfiles: 'allow' });
  });

  return {
    url,
    quire: office,
    storage,
    accounts,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await office.close();
      accounts.close();
    },
  };
}
