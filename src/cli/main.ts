import { redactSecrets } from '../auth/redact.ts';
import { QuireError } from '../core/errors.ts';
import { add, apikey, check, gc, group, migrate, serve, token, user, webhook } from './commands.ts';
import { UsageError } from './options.ts';

const USAGE = `Usage: quire <command> [options]

Commands:
  serve [--data DIR] [--port N] [--host H] [--public-url URL] [--max-upload BYTES] [--lock-ttl 30m] [--log-level L]
        [--lock-idle-release 20m] [--frame-ancestors "https://app.example.com …"] [--drain-timeout 30s]
        [--editor URL] [--editor-flavour onlyoffice|collabora|microsoft] [--proof-keys off|log|enforce]
        [--ui-language en-US] [--trusted-user-header X-Remote-User] [--metrics] [--database URL] [--file-url]
        [--min-free-space 1G] [--event-retention 365d] [--rescued-retention 90d] [--autosave-retention 30d]
        [--sign-in-limit 10/15m] [--sign-in-address-limit 50/15m] [--webhook-timeout 10s] [--webhook-retry-for 24h]
        [--oidc-issuer URL --oidc-client-id ID] [--oidc-client-secret S] [--oidc-scopes "openid profile email"]
        [--oidc-user-claim preferred_username] [--oidc-groups-claim groups] [--oidc-name "single sign-on"]
        Start the WOPI host (default data dir ./quire-data, port 8080, host 127.0.0.1).
        --min-free-space: below this much free space saves and uploads get 507 and /readyz 503 (default: the
        smaller of 1 GiB and 5 % of the disk; 0: off).
        --lock-idle-release: release a lock whose editor neither refreshed it nor saved for this long (off: never).
        --frame-ancestors: origins whose pages may frame the host-page URLs minted with an API key (/embed/…).
        --drain-timeout: on SIGTERM or SIGINT, /readyz answers 503 at once, no new connection is accepted, and
        requests in flight (a save's upload) get this long to finish before they are cut; then Quire exits 0.
        A second signal exits at once.
        --event-retention / --rescued-retention: how long the event log and rescued saves are kept (0: forever).
        --autosave-retention: autosaves older than this are thinned to the last of each editing session (0: off).
        --webhook-timeout / --webhook-retry-for: how long one webhook delivery attempt may take, and how long a
        delivery is retried before it is marked failed.
        --sign-in-limit / --sign-in-address-limit: failed password sign-ins allowed per user name / per client
        address in a sliding window before POST /login answers 429 (off: no such limit; behind a proxy every
        client has the proxy's address).
        --oidc-…: single sign-on through an OpenID Connect provider, beside passwords; register Quire there with
        the redirect URI PUBLIC_URL/login/oidc/callback, and give the secret as QUIRE_OIDC_CLIENT_SECRET.
        --oidc-user-claim names the user (no fallback); --oidc-groups-claim "" turns group sync off.
        --database postgres://… keeps files, versions, locks and users in PostgreSQL (blobs stay in DIR/blobs);
        add, token and user add take it too, and must be given the same one.
        --s3-bucket B [--s3-endpoint URL] [--s3-region R] [--s3-prefix P] [--s3-path-style]: keep the bytes in an
        S3-compatible bucket instead of DIR/blobs (the catalog stays in SQLite or --database); every command that
        opens the store takes them, and must be given the same ones. Credentials from QUIRE_S3_ACCESS_KEY_ID and
        QUIRE_S3_SECRET_ACCESS_KEY, else the AWS SDK's usual chain. /readyz checks the bucket answers.
        --file-url (with --s3-bucket): CheckFileInfo gives ONLYOFFICE and Microsoft 365 for the web a FileUrl, a
        presigned GET of the version's bytes in the bucket valid 5 minutes, so they read from S3, not GetFile (not
        Collabora, not secure view). The editors must reach the bucket: at --s3-public-endpoint URL when they do
        not reach it where Quire does (the URLs are signed for that address).
  user add NAME [--display-name NAME] [--admin] [--data DIR] [--database URL]
        Add a user who can sign in to Quire's pages. The password is read from QUIRE_PASSWORD, else from standard
        input (first line), else asked for on the terminal.
  user disable NAME | user enable NAME [--data DIR] [--database URL]
        Disable an account (its sign-ins and editor sessions end within a second) or enable it again.
  group list | add NAME | delete NAME | members NAME | member add GROUP USER | member remove GROUP USER
        Groups to share documents with, as admins manage them on the web page (deleting one removes its shares).
  apikey create NAME --scope SCOPE[,SCOPE…] [--expires 90d|2026-12-31] | apikey list | apikey revoke ID
        Service API keys another app drives Quire's JSON API with (Authorization: Bearer quire_…). Scopes:
        files:read, files:write, tokens (access tokens and host-page URLs for the app's own users), webhooks.
        create prints the key once, as one JSON line; revoking one ends it, and the tokens minted with it, within
        a second.
  webhook add URL [--events TYPE,TYPE…] [--description TEXT] | webhook list | webhook delete ID
  webhook deliveries ID [--data DIR] [--database URL]
        Webhooks: Quire POSTs signed JSON to URL for each event (all types unless --events names some; see the
        README). add prints the signing secret once, as one JSON line; deliveries prints the delivery log, newest
        first. A running server sends what is queued.
  add PATH [--name NAME] [--owner ID] [--data DIR] [--database URL] [--public-url URL] [--min-free-space 1G]
        Import a file; prints {"id","name","wopiSrc"} as one JSON line.
  token FILE_ID --user ID [--name DISPLAY] [--read-only] [--ttl 10h] [--data DIR] [--database URL]
        Mint an access token; prints {"access_token","access_token_ttl"} as one JSON line.
  gc [--data DIR] [--database URL] [--event-retention 365d] [--rescued-retention 90d] [--autosave-retention 30d]
        Apply retention, thin old autosaves, and remove temp files and blobs nothing references (untouched for an
        hour), as serve does every 10 minutes; safe while serving. Prints {"retention","garbage"} as one JSON line.
  migrate --to postgres://… [--blobs s3://BUCKET/PREFIX] [--data DIR] [--live]
        [--s3-endpoint URL] [--s3-region R] [--s3-path-style]      (or --blobs alone: the catalog stays in SQLite)
        Copy the embedded store (DIR/catalog.sqlite, DIR/blobs) to PostgreSQL and/or an S3 bucket: every table, ids
        kept, in one transaction; every blob the catalog references, each read back and its SHA-256 checked. Without
        --blobs the blobs stay in DIR/blobs. DIR is only read. Stop Quire first: it refuses while the catalog is open
        (--live copies anyway; what is written after the copy is lost). An interrupted run carries on when run again;
        a target holding other data, or a finished migration, is refused. Credentials: QUIRE_S3_ACCESS_KEY_ID and
        QUIRE_S3_SECRET_ACCESS_KEY, as for serve. Then start Quire with --database and --s3-bucket as it prints.
  check WOPISRC --token TOKEN [--timeout 10s] [--json]
        A WOPI conformance check of any host (not only Quire) over HTTP: CheckFileInfo, GetFile, the lock rules,
        PutFile, PutRelativeFile, RenameFile, UTF-7 names. Prints PASS / FAIL / SKIP per rule, the request and
        response that failed, and a summary (--json: one JSON document). It CHANGES THE FILE (saves, locks, renames,
        files made beside it); at the end it deletes the files it made, renames the file back and puts its original
        bytes back. Exit code 0 when every rule passed, 1 when one failed, 2 when the host could not be checked.
        The token may also come from QUIRE_CHECK_TOKEN or the WOPISRC's access_token; --timeout is per request.

Environment: QUIRE_DATA, QUIRE_DATABASE_URL, QUIRE_PORT, QUIRE_HOST, QUIRE_PUBLIC_URL, QUIRE_SECRET (token signing
key), QUIRE_EDITOR_URL, QUIRE_EDITOR_FLAVOUR, QUIRE_PROOF_KEYS, QUIRE_UI_LANGUAGE, QUIRE_TRUSTED_USER_HEADER,
QUIRE_METRICS=1, QUIRE_MIN_FREE_SPACE, QUIRE_SIGN_IN_LIMIT, QUIRE_SIGN_IN_ADDRESS_LIMIT, QUIRE_EVENT_RETENTION,
QUIRE_RESCUED_RETENTION, QUIRE_AUTOSAVE_RETENTION, QUIRE_OIDC_ISSUER, QUIRE_OIDC_CLIENT_ID, QUIRE_OIDC_CLIENT_SECRET, QUIRE_OIDC_SCOPES, QUIRE_OIDC_USER_CLAIM,
QUIRE_OIDC_GROUPS_CLAIM, QUIRE_OIDC_NAME, QUIRE_FRAME_ANCESTORS, QUIRE_WEBHOOK_TIMEOUT, QUIRE_WEBHOOK_RETRY_FOR,
QUIRE_S3_BUCKET, QUIRE_S3_ENDPOINT, QUIRE_S3_REGION, QUIRE_S3_PREFIX, QUIRE_S3_PATH_STYLE=1, QUIRE_S3_ACCESS_KEY_ID,
QUIRE_S3_SECRET_ACCESS_KEY, QUIRE_DRAIN_TIMEOUT, QUIRE_S3_PUBLIC_ENDPOINT, QUIRE_FILE_URL=1.`;

const commands: Record<string, (args: string[], env: typeof process.env) => Promise<void>> = {
  serve,
  add,
  token,
  user,
  group,
  gc,
  migrate,
  check,
  apikey,
  webhook,
};

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return;
  }
  const run = commands[command];
  if (!run) throw new UsageError(`unknown command: ${command}`);
  await run(rest, process.env);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const known =
    err instanceof UsageError ||
    // a refusal of what was asked (an illegal name, a taken user name …), not a failure of Quire
    err instanceof QuireError ||
    (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  // what went wrong may quote a URL or a header: never with a token in it
  console.error(`quire: ${redactSecrets(err instanceof Error ? err.message : String(err))}`);
  if (known) console.error('Run "quire --help" for usage.');
  else if (err instanceof Error && err.stack) console.error(redactSecrets(err.stack));
  process.exit(known ? 2 : 1);
});
