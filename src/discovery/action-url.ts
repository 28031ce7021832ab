/** What Quire can tell the editor through an action URL's placeholders; anything left undefined is dropped. */
export interface ActionUrlParams {
  /** The file's WOPI endpoint (`https://quire.example.com/wopi/files/abc`), without the access token. */
  wopiSrc: string;
  /** UI_LLCC: UI language, RFC 1766 ('en-US'). */
  uiLanguage?: string;
  /** DC_LLCC: language for data calculations; editors fall back to the UI language. */
  dataLanguage?: string;
  /** DISABLE_CHAT → 1. */
  disableChat?: boolean;
  /** EMBEDDED → true. */
  embedded?: boolean;
  /** FULLSCREEN → true. */
  fullscreen?: boolean;
  /** THEME_ID: '1' light, '2' dark. */
  themeId?: string;
  /** HOST_SESSION_ID: lets the editor's logs be matched with the host's. */
  hostSessionId?: string;
  /** SESSION_CONTEXT: echoed back in X-WOPI-SessionContext on CheckFileInfo. */
  sessionContext?: string;
  /** RECORDING → true. */
  recording?: boolean;
  /** VALIDATOR_TEST_CATEGORY: 'All', 'OfficeOnline' or 'OfficeNativeClient'. */
  validatorTest?: string;
  /** BUSINESS_USER → 1. */
  businessUser?: boolean;
  /** DISABLE_ASYNC → true. */
  disableAsync?: boolean;
  /** DISABLE_BROADCAST → true. */
  disableBroadcast?: boolean;
  /** ACTIVITY_NAVIGATION_ID. */
  activityNavigationId?: string;
  /** Values for other placeholders, by placeholder name ('PERFSTATS': '1'); these win over the fields above. */
  placeholders?: Record<string, string | undefined>;
}

const flag = (on: boolean | undefined, value: string) => (on ? value : undefined);

function placeholderValues(p: ActionUrlParams): Record<string, string | undefined> {
  return {
    UI_LLCC: p.uiLanguage,
    DC_LLCC: p.dataLanguage,
    DISABLE_CHAT: flag(p.disableChat, '1'),
    EMBEDDED: flag(p.embedded, 'true'),
    FULLSCREEN: flag(p.fullscreen, 'true'),
    THEME_ID: p.themeId,
    HOST_SESSION_ID: p.hostSessionId,
    SESSION_CONTEXT: p.sessionContext,
    RECORDING: flag(p.recording, 'true'),
    VALIDATOR_TEST_CATEGORY: p.validatorTest,
    BUSINESS_USER: flag(p.businessUser, '1'),
    DISABLE_ASYNC: flag(p.disableAsync, 'true'),
    DISABLE_BROADCAST: flag(p.disableBroadcast, 'true'),
    ACTIVITY_NAVIGATION_ID: p.activityNavigationId,
    ...p.placeholders,
    WOPI_SOURCE: p.wopiSrc,
  };
}

// `<name=PLACEHOLDER&>` or `<name=PLACEHOLDER>`: an optional query parameter the host may fill or drop.
const PLACEHOLDER = /<([^<>=]*)=([^<>]*?)(&?)>/g;

/**
 * Turns a discovery `urlsrc` template into the URL the host page posts the access token to
 * ("Transforming the urlsrc parameter" in the WOPI discovery docs): known placeholders are filled with
 * URL-encoded values, the others removed, and WOPISrc appears exactly once.
 */
export function buildActionUrl(urlsrc: string, params: ActionUrlParams): string {
  if (!params.wopiSrc) throw new TypeError('buildActionUrl needs a wopiSrc');
  const values = placeholderValues(params);
  let wopiSrcPair: string | undefined;
  const filled = urlsrc
    .trim()
    .replace(PLACEHOLDER, (_whole, name: string, placeholder: string, amp: string) => {
      const value = values[placeholder.trim()];
      if (value === undefined || value === '') return '';
      const pair = `${name}=${encodeURIComponent(value)}`;
      if (placeholder.trim() === 'WOPI_SOURCE') wopiSrcPair ??= pair;
      return `${pair}${amp || '&'}`;
    })
    // Anything still in angle brackets is no placeholder we can read; the docs say to drop what we don't know.
    .replace(/<[^<>]*>/g, '');

  const hashAt = filled.indexOf('#');
  const beforeHash = hashAt === -1 ? filled : filled.slice(0, hashAt);
  const fragment = hashAt === -1 ? '' : filled.slice(hashAt);
  const queryAt = beforeHash.indexOf('?');
  const base = queryAt === -1 ? beforeHash : beforeHash.slice(0, queryAt);
  const query = queryAt === -1 ? '' : beforeHash.slice(queryAt + 1);

  // Only the WOPISrc we filled in survives: a second copy, or one hard-coded in the template, would leave the
  // editor to pick which file to open.
  let hasWopiSrc = false;
  const pairs = query.split('&').filter((pair) => {
    if (pair === '') return false;
    if (pair.split('=', 1)[0]?.toLowerCase() !== 'wopisrc') return true;
    if (hasWopiSrc || pair !== wopiSrcPair) return false;
    hasWopiSrc = true;
    return true;
  });
  if (!hasWopiSrc) pairs.push(`WOPISrc=${encodeURIComponent(params.wopiSrc)}`);

  const url = `${base}?${pairs.join('&')}${fragment}`;
  try {
    new URL(url);
  } catch {
    throw new TypeError(`Cannot build an action URL from urlsrc ${JSON.stringify(urlsrc)}: ${url} is not a URL`);
  }
  return url;
}
