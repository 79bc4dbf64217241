/**
 * coturn's canonical origin (get_canonic_origin()): `scheme://host:port` in lower case, with
 * the scheme's default port filled in and user info, path, query and fragment dropped. What
 * does not parse as a URI with a scheme and a host is stored as given, as coturn does.
 * Measured with coturn 4.6.1: `HTTP://Example.COM/path` → `http://example.com:80`,
 * `https://b.org` → `https://b.org:443`, `ws://x.io` → `ws://x.io`, `example.com` → itself.
 */

// coturn's get_default_protocol_port().
const DEFAULT_PORTS: Record<string, number> = {
  ftp: 21,
  svn: 3690,
  ssh: 22,
  sip: 5060,
  http: 80,
  ldap: 389,
  sips: 5061,
  turn: 3478,
  stun: 3478,
  https: 443,
  ldaps: 636,
  turns: 5349,
  stuns: 5349,
  telnet: 23,
  radius: 1645,
  'svn+ssh': 22,
};

// scheme "://" [userinfo "@"] host [":" port] [path, query, fragment]
const SCHEME = String.raw`([A-Za-z][A-Za-z0-9+.-]*)`;
const HOST = String.raw`(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)`;
const URI = new RegExp(String.raw`^${SCHEME}:\/\/(?:[^@/?#]*@)?${HOST}(?::(\d*))?([/?#]\S*)?$`);

export function canonicalOrigin(origin: string): string {
  const m = URI.exec(origin);
  if (!m) return origin;
  const [, scheme = '', host = '', portText] = m;
  if (host === '') return origin;
  const lowerScheme = scheme.toLowerCase();
  let port = portText === undefined || portText === '' ? 0 : Number(portText);
  if (port > 65535) return origin; // libevent refuses the URI
  if (port < 1) port = DEFAULT_PORTS[lowerScheme] ?? 0;
  const hostPort = port > 0 ? `${host}:${port}` : host;
  return `${lowerScheme}://${hostPort.toLowerCase()}`;
}
