// DNS numeric constants: RR types, classes, opcodes and rcodes (RFC 1035 §3.2, RFC 6895 registries).

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  NULL: 10,
  WKS: 11,
  PTR: 12,
  HINFO: 13,
  MINFO: 14,
  MX: 15,
  TXT: 16,
  RP: 17,
  AFSDB: 18,
  AAAA: 28,
  LOC: 29,
  SRV: 33,
  NAPTR: 35,
  KX: 36,
  CERT: 37,
  DNAME: 39,
  OPT: 41,
  APL: 42,
  DS: 43,
  SSHFP: 44,
  IPSECKEY: 45,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  DHCID: 49,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  SMIMEA: 53,
  CDS: 59,
  CDNSKEY: 60,
  OPENPGPKEY: 61,
  CSYNC: 62,
  ZONEMD: 63,
  SVCB: 64,
  HTTPS: 65,
  SPF: 99,
  TKEY: 249,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
  URI: 256,
  CAA: 257,
} as const;

export const RRClass = {
  IN: 1,
  CH: 3,
  HS: 4,
  NONE: 254,
  ANY: 255,
} as const;

export const Opcode = {
  QUERY: 0,
  IQUERY: 1,
  STATUS: 2,
  NOTIFY: 4,
  UPDATE: 5,
} as const;

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  NOTAUTH: 9,
  BADVERS: 16,
} as const;

/** Header flag bits in the 16-bit flags word (RFC 1035 §4.1.1, RFC 4035 §3.2 for AD/CD). */
export const Flag = {
  QR: 0x8000,
  AA: 0x0400,
  TC: 0x0200,
  RD: 0x0100,
  RA: 0x0080,
  AD: 0x0020,
  CD: 0x0010,
} as const;

const typeNames = new Map<number, string>();
const typeNumbers = new Map<string, number>();
for (const [k, v] of Object.entries(RRType)) {
  typeNames.set(v, k);
  typeNumbers.set(k, v);
}

/** Mnemonic of a type, or RFC 3597 `TYPEnnn` for one we have no name for. */
export function typeToText(type: number): string {
  return typeNames.get(type) ?? `TYPE${type}`;
}

/** Type number for a mnemonic (case-insensitive) or `TYPEnnn`; undefined if unknown. */
export function typeFromText(text: string): number | undefined {
  const up = text.toUpperCase();
  const known = typeNumbers.get(up);
  if (known !== undefined) return known;
  const m = /^TYPE(\d{1,5})$/.exec(up);
  if (m) {
    const n = Number(m[1]);
    if (n <= 0xffff) return n;
  }
  return undefined;
}

const classNames = new Map<number, string>([
  [1, "IN"],
  [3, "CH"],
  [4, "HS"],
  [254, "NONE"],
  [255, "ANY"],
]);

export function classToText(cls: number): string {
  return classNames.get(cls) ?? `CLASS${cls}`;
}

export function classFromText(text: string): number | undefined {
  const up = text.toUpperCase();
  if (up === "IN") return 1;
  if (up === "CH" || up === "CHAOS") return 3;
  if (up === "HS") return 4;
  const m = /^CLASS(\d{1,5})$/.exec(up);
  if (m) {
    const n = Number(m[1]);
    if (n <= 0xffff) return n;
  }
  return undefined;
}

/** Query-only and meta types (RFC 6895 §3.1): never stored in a zone. */
export function isMetaType(type: number): boolean {
  return type === RRType.OPT || (type >= 128 && type <= 255);
}
