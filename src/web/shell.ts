import type { FastifyReply, FastifyRequest } from 'fastify';

/** The one HTML shell of Quire's pages, and the one way a page is sent with its headers. */

/**
 * The path Quire's web routes are served under: '' at the root of the public URL, '/office' when Quire is mounted
 * there. Pages are written with root-relative URLs ("/login"); `sendPage` puts them under this path, and every
 * redirect and JSON URL is built with `at`.
 */
export const basePath = (r: FastifyRequest | FastifyReply): string => r.server.prefix;

/** A root-relative path of Quire's ("/login") as the browser must ask for it ("/office/login"). */
export const at = (r: FastifyRequest | FastifyReply, path: string): string => `${r.server.prefix}${path}`;

/** URL attributes in Quire's own markup; what a user wrote is escaped (no raw quote), so it never matches. */
const ROOT_RELATIVE = /(\s(?:href|src|action|data-[a-z-]+-url)=")\/(?!\/)/g;

/** The page with its root-relative URLs under the base path (see `basePath`). */
function underBase(html: string, base: string): string {
  return base === '' ? html : html.replace(ROOT_RELATIVE, `$1${base}/`);
}

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export interface HtmlDocument {
  title: string;
  /** The body's content: trusted HTML, escaped by whoever built it. */
  body: string;
  /** Attributes of <body>; values are escaped here. */
  bodyAttributes?: Record<string, string>;
  /** More of <head> after the stylesheet (a script, an icon, a style): trusted HTML. */
  head?: string;
  /** Link /static/app.css; true unless the page styles itself. */
  stylesheet?: boolean;
  viewport?: string;
}

export function renderDocument(doc: HtmlDocument): string {
  const attributes = Object.entries(doc.bodyAttributes ?? {})
    .map(([name, value]) => ` ${name}="${escapeHtml(value)}"`)
    .join('');
  const stylesheet = doc.stylesheet === false ? '' : '\n<link rel="stylesheet" href="/static/app.css">';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="${escapeHtml(doc.viewport ?? 'width=device-width, initial-scale=1')}">
<title>${escapeHtml(doc.title)}</title>${stylesheet}${doc.head ? `\n${doc.head}` : ''}
</head>
<body${attributes}>
${doc.body}
</body></html>`;
}

/** A small page centred on its own, under Quire's name: sign-in and problem pages. */
export function renderCardPage(title: string, body: string): string {
  return renderDocument({
    title,
    bodyAttributes: { class: 'card-page' },
    body: `<main id="main" class="card">
<a class="brand" href="/">Quire</a>
${body}
</main>`,
  });
}

/** What a page may load and where it may go; each kind gets the narrowest policy that lets it work. */
export type PageKind =
  /** The document pages: Quire's own script and stylesheet. */
  | { kind: 'app' }
  /**
   * Sign-in and problem pages: the stylesheet and forms posted back to Quire; no script at all. Framed by nobody,
   * except the embedded host page's own problem pages (by the origins that may frame it).
   */
  | { kind: 'plain'; frameAncestors?: readonly string[] | undefined }
  /**
   * The host page: frames the editor, posts the access token to it, and styles itself inline. Quire's own pages may
   * frame it; so may `frameAncestors` (the origins an integrator embeds Quire's host page in, see web/embed.ts).
   */
  | { kind: 'host'; editorOrigin: string; frameAncestors?: readonly string[] | undefined };

function policiesOf(page: PageKind): { csp: string[]; referrer: string } {
  switch (page.kind) {
    case 'app':
      return {
        csp: [
          "default-src 'self'",
          "script-src 'self'",
          "style-src 'self'",
          "img-src 'self' data:",
          "form-action 'self'",
          "frame-ancestors 'none'",
        ],
        referrer: 'same-origin',
      };
    case 'plain':
      return {
        csp: [
          "default-src 'none'",
          "style-src 'self'",
          "form-action 'self'",
          `frame-ancestors ${page.frameAncestors?.length ? page.frameAncestors.join(' ') : "'none'"}`,
          "base-uri 'none'",
        ],
        referrer: 'same-origin',
      };
    case 'host':
      return {
        csp: [
          "default-src 'self'",
          `frame-src ${page.editorOrigin}`,
          `form-action ${page.editorOrigin}`,
          "script-src 'self'",
          "style-src 'self' 'unsafe-inline'",
          'img-src * data:',
          `frame-ancestors ${["'self'", ...(page.frameAncestors ?? [])].join(' ')}`,
        ],
        referrer: 'no-referrer',
      };
  }
}

/** Sends a rendered page: never cached, with its kind's Content-Security-Policy and Referrer-Policy. */
export function sendPage(reply: FastifyReply, page: PageKind, html: string, status = 200): FastifyReply {
  const { csp, referrer } = policiesOf(page);
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .headers({
      'Content-Security-Policy': csp.join('; '),
      'Cache-Control': 'no-store',
      'Referrer-Policy': referrer,
      'X-Content-Type-Options': 'nosniff',
    })
    .send(underBase(html, basePath(reply)));
}

/** A page saying what went wrong, in words, with the way back to the documents. `message` is trusted HTML. */
export function sendProblem(reply: FastifyReply, status: number, title: string, message: string): FastifyReply {
  const html = renderCardPage(
    `${title} – Quire`,
    `<h1>${escapeHtml(title)}</h1>
<p>${message}</p>
<p class="card-actions"><a class="button" href="/">Back to the documents</a></p>`,
  );
  return sendPage(reply, { kind: 'plain' }, html, status);
}
