/**
 * The self-test page: one HTML document with its style and script inline, and the
 * Content-Security-Policy that allows exactly those two (by hash) and fetches to itself.
 */
import { createHash } from 'node:crypto';
import { PAGE_SCRIPT } from './page-script.js';

/** What the page is told: the iceServers URL of each transport, and whether it may mint. */
export interface PageConfig {
  readonly urls: Readonly<Partial<Record<'udp' | 'tcp' | 'tls', string>>>;
  readonly canMint: boolean;
}

const STYLE = `
body { font: 14px system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
tr[data-verdict="pass"] td:nth-child(2) { color: #064; font-weight: bold; }
tr[data-verdict="fail"] td:nth-child(2) { color: #a00; font-weight: bold; }
fieldset { border: 1px solid #ccc; margin-bottom: 1em; }
label { margin-right: 1em; }
#log { font-family: monospace; }
`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${hash(PAGE_SCRIPT)}`,
  `style-src ${hash(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** JSON inside <script type="application/json">: no "</script>" or "<!--" can close it early. */
function embeddedJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

export function renderPage(config: PageConfig): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Turnpike self-test</title>
<style>${STYLE}</style>
</head>
<body data-state="loading">
<h1>Turnpike self-test</h1>
<p>Gathers relay candidates from this server over each transport, then sends data between two
peer connections in this page through their relays only.</p>
<fieldset>
<legend>Credentials</legend>
<label id="mint-choice"><input type="radio" name="credentials" id="mint"> fresh REST credentials from the server's secret</label>
<label><input type="radio" name="credentials" id="typed-choice"> these:</label>
<span id="typed">
<label>username <input id="username" autocomplete="off"></label>
<label>password <input id="password" type="password" autocomplete="off"></label>
</span>
</fieldset>
<button id="run" type="button">Run the self-test</button>
<h2>Verdicts</h2>
<table><thead><tr><th>transport</th><th>result</th><th>error code</th><th>details</th></tr></thead>
<tbody id="verdicts"></tbody></table>
<h2>Candidates</h2>
<table><thead><tr><th>transport</th><th>peer</th><th>type</th><th>protocol</th><th>relay protocol</th><th>address</th><th>time</th></tr></thead>
<tbody id="candidates"></tbody></table>
<h2>Log</h2>
<ul id="log"></ul>
<script type="application/json" id="config">${embeddedJson(config)}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
