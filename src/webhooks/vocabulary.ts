import { EVENT, type EventType } from '../documents/events.ts';

/**
 * The event types webhooks speak: a public vocabulary, kept stable for integrators, mapped from Quire's own event
 * kinds (documents/events.ts). Names here may be added to, never renamed or given another meaning. Each public type
 * comes from exactly one kind; kinds not listed (opens, downloads, tokens, groups …) are not sent.
 */
export const WEBHOOK_EVENTS = {
  'file.created': { kind: EVENT.created, about: 'a document was imported, uploaded, made from a template or saved as' },
  'version.created': { kind: EVENT.saved, about: 'an editor saved a new version' },
  'file.restored': { kind: EVENT.restored, about: 'an earlier version (or a rescued save) became the newest' },
  'file.renamed': { kind: EVENT.renamed, about: 'a document got a new name' },
  'file.deleted': { kind: EVENT.deleted, about: 'a document was deleted (its versions are kept)' },
  'save.rescued': { kind: EVENT.rescued, about: 'a save was refused (lock conflict) and kept beside the document' },
  'lock.acquired': { kind: EVENT.lockTaken, about: 'an editor locked a document to edit it' },
  'lock.changed': { kind: EVENT.lockChanged, about: 'the lock changed hands without being released' },
  'lock.released': { kind: EVENT.lockReleased, about: 'the lock was released (by the editor, or as idle)' },
  'lock.broken': { kind: EVENT.lockBroken, about: 'an admin or the owner broke an editor’s lock' },
  'share.added': { kind: EVENT.shareAdded, about: 'a document was shared with a person or a group' },
  'share.changed': { kind: EVENT.shareChanged, about: 'a share’s role or secure view changed' },
  'share.removed': { kind: EVENT.shareRemoved, about: 'a share was removed' },
} as const satisfies Record<string, { kind: EventType; about: string }>;

export type WebhookEventType = keyof typeof WEBHOOK_EVENTS;

/** What a ping sends: not an event of the log, so it is in no subscription and always goes. */
export const PING_TYPE = 'webhook.ping';

const PUBLIC_OF_KIND = new Map<string, WebhookEventType>(
  Object.entries(WEBHOOK_EVENTS).map(([type, { kind }]) => [kind, type as WebhookEventType]),
);

export const isWebhookEventType = (type: string): type is WebhookEventType => Object.hasOwn(WEBHOOK_EVENTS, type);

/** The public type of an event kind, or undefined when webhooks do not report it. */
export const publicTypeOf = (kind: string): WebhookEventType | undefined => PUBLIC_OF_KIND.get(kind);

/** The event kinds a subscription matches: those of `events`, or of every public type (null). */
export function kindsFor(events: readonly string[] | null): string[] {
  const types = events ?? (Object.keys(WEBHOOK_EVENTS) as WebhookEventType[]);
  return types.filter(isWebhookEventType).map((t) => WEBHOOK_EVENTS[t].kind);
}
