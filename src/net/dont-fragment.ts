/**
 * Whether this host's UDP relay sockets send with DF set, which is what DONT-FRAGMENT
 * (RFC 8656 §7.2, §14) asks for. Node cannot set IP_MTU_DISCOVER, so the socket keeps the
 * kernel's default: on Linux that is IP_PMTUDISC_WANT unless `net.ipv4.ip_no_pmtu_disc` says
 * otherwise, and WANT sets DF on every datagram that fits the path MTU (a capture on loopback
 * shows `flags [DF]`). The one difference from coturn's IP_PMTUDISC_DO: a datagram over the
 * path MTU is fragmented by the kernel instead of dropped. IPv6 has no DF bit; routers never
 * fragment there, and the same default applies to the sending host.
 */
import { readFileSync } from 'node:fs';

const PMTU_SYSCTL = '/proc/sys/net/ipv4/ip_no_pmtu_disc';

/** True on Linux with path-MTU discovery on (the default); false where we cannot tell. */
export function kernelSetsDontFragment(readSysctl: (path: string) => string = (path) => readFileSync(path, 'utf8')): boolean {
  if (process.platform !== 'linux') return false;
  try {
    return readSysctl(PMTU_SYSCTL).trim() === '0';
  } catch {
    return false;
  }
}
