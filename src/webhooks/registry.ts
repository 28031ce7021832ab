import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { badRequest, QuireError } from '../core/errors.ts';
import { EVENT, type EventType } from '../documents/events.ts';
import type { Actor, NewEvent, Webhook, WebhookDelivery, WebhookStore } from '../storage/types.ts';
import { isWebhookEventType, kindsFor, PING_TYPE, publicTypeOf, WEBHOOK_EVENTS } from './vocabulary.ts';

const MAX_URL = 2048;
const MAX_DESCRIPTION = 200;

/** There is no such webhook (or delivery of it). */
export class WebhookNotFoundError extends QuireError {
  override name = 'WebhookNotFoundError';
  constructor(what = 'no such webhook') {
    super(404, what);
  }
}

/** A webhook as the API and the CLI show it (never its secret). */
export function webhookView(hook: Webhook) {
  return {
    id: hook.id,
    url: hook.url,
    /** null: every event type, including those added later */
    events: hook.events,
    description: hook.description,
    createdAt: new Date(hook.createdAt).toISOString(),
    createdBy: hook.createdBy,
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A line of the delivery log as the API and the CLI show it. */
export function deliveryView(d: WebhookDelivery) {
  return {
    id: d.id,
    type: d.eventId === null ? PING_TYPE : (publicTypeOf(d.kind) ?? d.kind),
    eventId: d.eventId,
    state: d.state,
    attempts: d.attempts,
    createdAt: iso(d.createdAt),
    lastAttemptAt: iso(d.lastAttemptAt),
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    nextAttemptAt: d.state === 'pending' ? iso(d.nextAttemptAt) : null,
    finishedAt: iso(d.finishedAt),
  };
}

/** The event types one may subscribe to, with what each means. */
export const eventTypeList = () => Object.entries(WEBHOOK_EVENTS).map(([type, { about }]) => ({ type, about }));

function urlOf(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw badRequest('"url" must be an http(s) URL');
  const text = value.trim();
  if (text.length > MAX_URL) throw badRequest(`"url" is longer than ${MAX_URL} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badRequest(`"url" is not a URL: ${JSON.stringify(text)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw badRequest(`"url" must be http or https, not ${url.protocol.replace(/:$/, '')}`);
  }
  if (url.username || url.password) {
    throw badRequest('"url" must not hold a user name or password: receivers check the signature instead');
  }
  return url.href;
}

/** A subscription: a non-empty list of known types, or null / absent for every type. */
function eventsOf(value: unknown): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string')) {
    throw badRequest('"events" must be a non-empty list of event types (or left out for every type)');
  }
  const unknown = value.filter((v: string) => !isWebhookEventType(v));
  if (unknown.length > 0) {
    throw badRequest(
      `unknown event type${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => JSON.stringify(u)).join(', ')}; known: ${Object.keys(WEBHOOK_EVENTS).join(', ')}`,
    );
  }
  return [...new Set(value as string[])];
}

function descriptionOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw badRequest('"description" must be a string');
  if (value.length > MAX_DESCRIPTION) throw badRequest(`"description" is longer than ${MAX_DESCRIPTION} characters`);
  return value.trim();
}

/** The receiver's address as the audit log keeps it: no credentials, no query (either may hold a secret). */
function shownUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** The audit event of a webhook's change, made by `actor`. */
const audited =
  (type: EventType, actor: Actor) =>
  (hook: Webhook): NewEvent => ({
    type,
    ...actor,
    details: { webhook: hook.id, url: shownUrl(hook.url), events: hook.events },
  });

/**
 * Registering webhooks and looking after their deliveries, for the API and the CLI alike: input is checked here
 * (an http(s) URL, known event types), so every way in refuses the same mistakes with the same reasons.
 */
export class Webhooks {
  constructor(
    readonly store: WebhookStore,
    private readonly clock: Clock,
  ) {}

  /**
   * Registers a receiver; the secret is answered here only (it is kept, to sign with, but never shown again).
   * `actor` (the admin, or the CLI's operator) is recorded as its maker and in the audit event.
   */
  async register(
    input: Record<string, unknown>,
    actor: Actor & { userId: string },
  ): Promise<Webhook & { secret: string }> {
    const url = urlOf(input.url);
    const events = eventsOf(input.events);
    const description = descriptionOf(input.description);
    const secret = `whsec_${randomBytes(24).toString('base64url')}`;
    const hook = await this.store.createWebhook(
      {
        id: randomUUID(),
        url,
        events,
        kinds: kindsFor(events),
        description,
        secret,
        createdAt: this.clock.now(),
        createdBy: actor.userId,
      },
      audited(EVENT.webhookCreated, actor),
    );
    return { ...hook, secret };
  }

  async list(): Promise<Webhook[]> {
    return (await this.store.listWebhooks()).map(({ secret: _s, kinds: _k, ...hook }) => hook);
  }

  async get(id: string): Promise<Webhook> {
    const hook = await this.store.getWebhook(id);
    if (!hook) throw new WebhookNotFoundError();
    const { secret: _s, kinds: _k, ...view } = hook;
    return view;
  }

  /** Changes the URL, the events or the description (what is given); deliveries already queued stay queued. */
  async update(id: string, input: Record<string, unknown>, actor: Actor): Promise<Webhook> {
    await this.get(id);
    const events = 'events' in input ? eventsOf(input.events) : undefined;
    const updated = await this.store.updateWebhook(
      id,
      {
        ...('url' in input && { url: urlOf(input.url) }),
        ...(events !== undefined && { events, kinds: kindsFor(events) }),
        ...('description' in input && { description: descriptionOf(input.description) }),
      },
      { at: this.clock.now(), event: audited(EVENT.webhookChanged, actor) },
    );
    if (!updated) throw new WebhookNotFoundError();
    return updated;
  }

  async remove(id: string, actor: Actor): Promise<void> {
    const audit = { at: this.clock.now(), event: audited(EVENT.webhookDeleted, actor) };
    if (!(await this.store.deleteWebhook(id, audit))) throw new WebhookNotFoundError();
  }

  /** Queues a `webhook.ping` delivery, sent like any other. */
  async ping(id: string): Promise<WebhookDelivery> {
    await this.get(id);
    return this.store.enqueuePing(id, this.clock.now());
  }

  async deliveries(id: string, query: { limit?: number; before?: string } = {}): Promise<WebhookDelivery[]> {
    await this.get(id);
    return this.store.deliveries(id, {
      limit: query.limit ?? 50,
      ...(query.before !== undefined && { before: query.before }),
    });
  }

  /** Sends a delivery again (same id, so a receiver that already has it can tell), whatever state it is in. */
  async redeliver(id: string, deliveryId: string): Promise<WebhookDelivery> {
    await this.get(id);
    const again = await this.store.redeliver(id, deliveryId, this.clock.now());
    if (!again) throw new WebhookNotFoundError('no such delivery of this webhook');
    return again;
  }

  /**
   * Brings every webhook's kinds up to this Quire's vocabulary (a subscription to every type then includes types a
   * newer Quire added). Run at start, before deliveries are sent. Answers how many changed.
   */
  async reconcile(): Promise<number> {
    let changed = 0;
    for (const hook of await this.store.listWebhooks()) {
      const kinds = kindsFor(hook.events);
      if (kinds.join(',') !== hook.kinds.join(',')) {
        await this.store.updateWebhook(hook.id, { kinds });
        changed++;
      }
    }
    return changed;
  }
}
