// Who may transfer a zone: IPv4 and IPv6 addresses and CIDR networks (RFC 4632, RFC 4291 §2.3).
// An IPv4-mapped IPv6 client (::ffff:192.0.2.1) matches the IPv4 entries.

import { isIPv4, isIPv6 } from "node:net";

export interface AclEntry {
  /** As written in the config. */
  text: string;
  family: 4 | 6;
  bytes: Buffer;
  prefix: number;
}

/** `192.0.2.1`, `10.0.0.0/8`, `::1`, `2001:db8::/32`. Throws an Error saying what is wrong. */
export function parseAclEntry(text: string): AclEntry {
  const t = text.trim();
  const slash = t.indexOf("/");
  const addr = slash < 0 ? t : t.slice(0, slash);
  const family = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : 0;
  if (family === 0) throw new Error(`"${text}" is not an IP address or network (write 192.0.2.1, 10.0.0.0/8, ::1 or 2001:db8::/32)`);
  const max = family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) throw new Error(`"${text}": the prefix length must be a number from 0 to ${max}`);
    prefix = Number(p);
  }
  const bytes = family === 4 ? Buffer.from(addr.split(".").map(Number)) : ipv6Bytes(addr);
  if (!prefixOnly(bytes, prefix)) throw new Error(`"${text}" has host bits set beyond /${prefix}; write the network address`);
  return { text: t, family, bytes, prefix };
}

function prefixOnly(bytes: Buffer, prefix: number): boolean {
  for (let bit = prefix; bit < bytes.length * 8; bit++) if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) return false;
  return true;
}

function matches(e: AclEntry, addr: Buffer): boolean {
  if (addr.length !== e.bytes.length) return false;
  const full = e.prefix >> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== e.bytes[i]) return false;
  const rest = e.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (addr[full]! & mask) === (e.bytes[full]! & mask);
}

/** The client's address as bytes (4 for IPv4 and IPv4-mapped IPv6, 16 for IPv6), or undefined. */
export function addressBytes(remote: string): Buffer | undefined {
  const r = remote.replace(/%.*$/, "");
  if (isIPv4(r)) return Buffer.from(r.split(".").map(Number));
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(r);
  if (mapped && isIPv4(mapped[1]!)) return Buffer.from(mapped[1]!.split(".").map(Number));
  if (isIPv6(r)) return ipv6Bytes(r);
  return undefined;
}

/** The first entry that `remote` matches, or undefined. */
export function aclMatch(entries: readonly AclEntry[], remote: string): AclEntry | undefined {
  const addr = addressBytes(remote);
  if (!addr) return undefined;
  return entries.find((e) => matches(e, addr));
}

/** The 16 bytes of an IPv6 address already checked by isIPv6 (`::` and a trailing dotted quad allowed). */
function ipv6Bytes(text: string): Buffer {
  let t = text;
  const words: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  let tail: number[] = [];
  if (v4) {
    const p = v4[1]!.split(".").map(Number);
    tail = [(p[0]! << 8) | p[1]!, (p[2]! << 8) | p[3]!];
    t = t.slice(0, -v4[1]!.length) + "0:0";
  }
  const [head, rest] = t.split("::") as [string, string | undefined];
  const a = head ? head.split(":").map((h) => parseInt(h, 16)) : [];
  const b = rest !== undefined && rest !== "" ? rest.split(":").map((h) => parseInt(h, 16)) : [];
  words.push(...(rest === undefined ? a : [...a, ...new Array<number>(8 - a.length - b.length).fill(0), ...b]));
  if (tail.length) words.splice(6, 2, ...tail);
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}
