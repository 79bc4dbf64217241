/** What the web admin serves besides its API: three small files, and the headers on every answer. */
import { PAGE_HTML } from './page-html.js';
import { PAGE_SCRIPT } from './page-script.js';
import { PAGE_STYLE } from './page-style.js';

export const PAGE_ASSETS: ReadonlyMap<string, { readonly body: string; readonly type: string }> = new Map([
  ['/', { body: PAGE_HTML, type: 'text/html; charset=utf-8' }],
  ['/app.js', { body: PAGE_SCRIPT, type: 'text/javascript; charset=utf-8' }],
  ['/app.css', { body: PAGE_STYLE, type: 'text/css; charset=utf-8' }],
]);

/** Nothing from elsewhere, no framing, no inline script or style: what a CSP can forbid is forbidden. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
};
