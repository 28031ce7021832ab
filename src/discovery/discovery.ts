import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { Flavour } from './flavour.ts';

/** The WOPI action names Quire uses; editors list others too (formsubmit, view_comment, getinfo, mobileView …). */
export type ActionName = 'view' | 'edit' | 'editnew' | 'embedview' | 'convert' | (string & {});

export interface DiscoveryAction {
  /** The `app` element's name: 'Word', 'Excel' … (ONLYOFFICE, Microsoft), 'writer' or a MIME type (Collabora). */
  app: string;
  name: ActionName;
  /** Lower case, without the dot; '' for Collabora's MIME-type apps, which are not found by extension. */
  ext: string;
  /** The raw template, placeholders and all; turn it into a URL with `buildActionUrl`. */
  urlsrc: string;
  /** WOPI capability groups the action needs from the host: 'locks', 'update', 'cobalt' … */
  requires: string[];
  isDefault: boolean;
  favIconUrl?: string;
  /** For `convert`: the format the file becomes ('docx' for a 'doc'). */
  targetExt?: string;
  /** The `net-zone` the action came from ('external-https' …), when the XML names one. */
  netZone?: string;
}

export interface DiscoveryProofKey {
  /** Base64 CSP public key blob. */
  value?: string;
  /** Base64 big-endian RSA modulus. */
  modulus?: string;
  /** Base64 big-endian RSA public exponent. */
  exponent?: string;
}

export interface Discovery {
  actions: DiscoveryAction[];
  proofKey?: { current: DiscoveryProofKey; old?: DiscoveryProofKey };
  /** Guessed from the XML: urlsrc paths and hosts, app names. */
  flavour: Flavour;
  /** Origins (scheme://host[:port]) of all urlsrc values: where the editor iframe lives. */
  origins: string[];
  /** Collabora's capabilities endpoint (its `Capabilities` app), when listed. */
  capabilitiesUrl?: string;
  /** The action for an extension ('docx', '.docx' or 'Report.DOCX') and action name; undefined if none. */
  action(ext: string, name: ActionName): DiscoveryAction | undefined;
  /** Every action available for an extension, one per action name. */
  actionsFor(ext: string): DiscoveryAction[];
}

export class DiscoveryError extends Error {
  override name = 'DiscoveryError';
}

// Repeated elements come back as arrays even when the XML holds just one of them.
const REPEATED = new Set([
  'wopi-discovery.net-zone',
  'wopi-discovery.net-zone.app',
  'wopi-discovery.net-zone.app.action',
]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  attributesGroupName: '@',
  parseAttributeValue: false,
  parseTagValue: false,
  isArray: (_tag, jPath) => typeof jPath === 'string' && REPEATED.has(jPath),
});

type Attributes = Record<string, string | undefined>;
interface XmlNode {
  '@'?: Attributes;
  [child: string]: unknown;
}

// When one editor answers in several zones, a browser on the public internet is the usual case.
const ZONE_PREFERENCE = ['external-https', 'external-http', 'internal-https', 'internal-http'];

/** Reads an editor's discovery XML (`EDITOR_URL/hosting/discovery`). Throws DiscoveryError if it is not one. */
export function parseDiscovery(xml: string): Discovery {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { msg, line, col } = valid.err;
    throw new DiscoveryError(`Discovery XML is malformed (line ${line}, column ${col}): ${msg}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parser.parse(xml) as Record<string, unknown>;
  } catch (err) {
    throw new DiscoveryError(`Discovery XML is malformed: ${(err as Error).message}`, { cause: err });
  }
  if (!('wopi-discovery' in doc)) {
    throw new DiscoveryError('Discovery XML has no <wopi-discovery> root element');
  }
  const [root = {}] = nodes(doc['wopi-discovery']);

  const actions: DiscoveryAction[] = [];
  for (const zone of nodes(root['net-zone'])) {
    const netZone = attr(zone, 'name');
    for (const app of nodes(zone.app)) {
      const appName = attr(app, 'name') ?? '';
      const favIconUrl = attr(app, 'favIconUrl');
      for (const action of nodes(app.action)) {
        const name = attr(action, 'name');
        const urlsrc = attr(action, 'urlsrc')?.trim();
        if (!name || !urlsrc) continue;
        const targetExt = attr(action, 'targetext');
        actions.push({
          app: appName,
          name,
          ext: normaliseExt(attr(action, 'ext') ?? ''),
          urlsrc,
          requires: (attr(action, 'requires') ?? '')
            .split(',')
            .map((r) => r.trim())
            .filter(Boolean),
          isDefault: attr(action, 'default')?.toLowerCase() === 'true',
          ...(favIconUrl ? { favIconUrl } : {}),
          ...(targetExt ? { targetExt: normaliseExt(targetExt) } : {}),
          ...(netZone ? { netZone } : {}),
        });
      }
    }
  }
  if (actions.length === 0) {
    throw new DiscoveryError('Discovery XML lists no actions (no <net-zone>/<app>/<action> with a name and urlsrc)');
  }

  const ordered = [...actions].sort((a, b) => zoneRank(a.netZone) - zoneRank(b.netZone));
  const byExt = new Map<string, DiscoveryAction[]>();
  for (const action of ordered) {
    if (!action.ext) continue;
    const list = byExt.get(action.ext) ?? [];
    if (!list.some((known) => known.name === action.name)) list.push(action);
    byExt.set(action.ext, list);
  }
  const capabilitiesUrl = actions.find((a) => a.app === 'Capabilities' && a.name === 'getinfo')?.urlsrc;
  const proofKey = readProofKey(root['proof-key']);

  return {
    actions,
    ...(proofKey ? { proofKey } : {}),
    flavour: guessFlavour(actions),
    origins: originsOf(actions),
    ...(capabilitiesUrl ? { capabilitiesUrl } : {}),
    action: (ext, name) => byExt.get(normaliseExt(ext))?.find((a) => a.name === name),
    actionsFor: (ext) => [...(byExt.get(normaliseExt(ext)) ?? [])],
  };
}

/** 'docx', '.DOCX' and 'Report.docx' all become 'docx'. */
function normaliseExt(ext: string): string {
  const trimmed = ext.trim().toLowerCase();
  const dot = trimmed.lastIndexOf('.');
  return dot === -1 ? trimmed : trimmed.slice(dot + 1);
}

function zoneRank(zone: string | undefined): number {
  const rank = zone ? ZONE_PREFERENCE.indexOf(zone.toLowerCase()) : -1;
  return rank === -1 ? ZONE_PREFERENCE.length : rank;
}

function readProofKey(raw: unknown): Discovery['proofKey'] {
  const node = nodes(raw)[0];
  if (!node) return undefined;
  const current = keyOf(attr(node, 'value'), attr(node, 'modulus'), attr(node, 'exponent'));
  if (!current) return undefined;
  const old = keyOf(attr(node, 'oldvalue'), attr(node, 'oldmodulus'), attr(node, 'oldexponent'));
  return old ? { current, old } : { current };
}

function keyOf(value?: string, modulus?: string, exponent?: string): DiscoveryProofKey | undefined {
  if (!value && !(modulus && exponent)) return undefined;
  return { ...(value ? { value } : {}), ...(modulus ? { modulus } : {}), ...(exponent ? { exponent } : {}) };
}

function guessFlavour(actions: DiscoveryAction[]): Flavour {
  const urls = actions.map((a) => a.urlsrc.toLowerCase());
  if (
    urls.some((u) => /\/(cool|loleaflet)\.html|\/loleaflet\//.test(u)) ||
    actions.some((a) => a.app === 'Capabilities')
  ) {
    return 'collabora';
  }
  if (urls.some((u) => u.includes('/hosting/wopi/'))) return 'onlyoffice';
  // Microsoft 365 (officeapps.live.com) and on-premises Office Online Server (its .aspx frames).
  if (urls.some((u) => /officeapps(-df)?\.live\.com|\.aspx(\?|$)/.test(u))) return 'microsoft';
  return 'generic';
}

function originsOf(actions: DiscoveryAction[]): string[] {
  const origins = new Set<string>();
  for (const { urlsrc } of actions) {
    try {
      const url = new URL(urlsrc.replace(/<[^<>]*>/g, ''));
      if (url.protocol === 'https:' || url.protocol === 'http:') origins.add(url.origin);
    } catch {
      // An unusable urlsrc has no origin; the action fails when someone builds its URL.
    }
  }
  return [...origins];
}

function isNode(value: unknown): value is XmlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nodes(value: unknown): XmlNode[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  // A self-closed element without attributes parses as '' rather than an object.
  return list.map((item) => (isNode(item) ? item : {}));
}

function attr(node: XmlNode, name: string): string | undefined {
  const value = node['@']?.[name];
  return typeof value === 'string' ? value : undefined;
}
