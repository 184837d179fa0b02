// Test-side DNS client: build raw queries, send them over UDP or TCP (RFC 1035 §4.2, RFC 7766 framing),
// and normalise responses with dns-packet — an independent decoder, never hadns's own codec.

import dgram from "node:dgram";
import net from "node:net";
import dnsPacket from "dns-packet";

// ---------------------------------------------------------------------------------------------
// Query builder
// ---------------------------------------------------------------------------------------------

const TYPE_CODES: Record<string, number> = {
  A: 1, NS: 2, MD: 3, MF: 4, CNAME: 5, SOA: 6, MB: 7, MG: 8, MR: 9, NULL: 10, WKS: 11, PTR: 12, HINFO: 13,
  MINFO: 14, MX: 15, TXT: 16, RP: 17, AFSDB: 18, SIG: 24, KEY: 25, AAAA: 28, LOC: 29, NXT: 30, SRV: 33,
  NAPTR: 35, KX: 36, CERT: 37, A6: 38, DNAME: 39, OPT: 41, APL: 42, DS: 43, SSHFP: 44, IPSECKEY: 45,
  RRSIG: 46, NSEC: 47, DNSKEY: 48, DHCID: 49, NSEC3: 50, NSEC3PARAM: 51, TLSA: 52, SMIMEA: 53, HIP: 55,
  CDS: 59, CDNSKEY: 60, OPENPGPKEY: 61, CSYNC: 62, ZONEMD: 63, SVCB: 64, HTTPS: 65, SPF: 99, TKEY: 249,
  TSIG: 250, IXFR: 251, AXFR: 252, MAILB: 253, MAILA: 254, ANY: 255, URI: 256, CAA: 257,
};
const CLASS_CODES: Record<string, number> = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 };

export function typeCode(t: number | string): number {
  if (typeof t === "number") return t;
  const u = t.toUpperCase();
  if (u in TYPE_CODES) return TYPE_CODES[u]!;
  const m = /^TYPE(\d+)$/.exec(u);
  if (m) return Number(m[1]);
  throw new Error(`unknown type ${t}`);
}

export function classCode(c: number | string): number {
  if (typeof c === "number") return c;
  const u = c.toUpperCase();
  if (u in CLASS_CODES) return CLASS_CODES[u]!;
  const m = /^CLASS(\d+)$/.exec(u);
  if (m) return Number(m[1]);
  throw new Error(`unknown class ${c}`);
}

export interface Question {
  name: string;
  type: number | string;
  class?: number | string;
}

export interface EdnsOptions {
  /** Advertised UDP payload size (OPT CLASS); default 1232. */
  payload?: number;
  do?: boolean;
  version?: number;
  /** Extended RCODE byte of the OPT TTL (a query should send 0). */
  extRcode?: number;
  /** Extra bits of the 16-bit OPT flags field besides DO (the "Z" bits). */
  zFlags?: number;
  options?: Array<{ code: number; data: Buffer }>;
}

export interface QueryOptions {
  /** Message ID; default random. */
  id?: number;
  /** One question (the usual case) … */
  name?: string;
  type?: number | string;
  class?: number | string;
  /** … or any number of questions (QDCOUNT 0 or 2 tests). Overrides name/type/class. */
  questions?: Question[];
  rd?: boolean;
  cd?: boolean;
  ad?: boolean;
  /** Bits that a query should not carry, for robustness tests. */
  qr?: boolean;
  aa?: boolean;
  tc?: boolean;
  ra?: boolean;
  z?: boolean;
  opcode?: number;
  /** Header RCODE nibble of the query (should be 0). */
  rcode?: number;
  /** EDNS: false/undefined = no OPT; true = OPT with defaults; or options. */
  edns?: boolean | EdnsOptions;
  /** Number of OPT records to append (default 1 when edns is set); 2 for the "two OPTs" FORMERR test. */
  optCount?: number;
}

/** Encode a domain name as written (case kept, no compression). `\.` and `\DDD` escapes are honoured. */
export function encodeName(name: string): Buffer {
  if (name === "." || name === "") return Buffer.from([0]);
  const labels: Buffer[] = [];
  let cur: number[] = [];
  for (let i = 0; i < name.length; i++) {
    const ch = name[i]!;
    if (ch === "\\") {
      const d = /^\d{3}/.exec(name.slice(i + 1));
      if (d) {
        cur.push(Number(d[0]));
        i += 3;
      } else {
        cur.push(name.charCodeAt(i + 1));
        i += 1;
      }
    } else if (ch === ".") {
      labels.push(Buffer.from(cur));
      cur = [];
    } else {
      cur.push(name.charCodeAt(i) & 0xff);
    }
  }
  if (cur.length) labels.push(Buffer.from(cur));
  const parts: Buffer[] = [];
  for (const l of labels) {
    if (l.length === 0 || l.length > 63) throw new Error(`bad label in ${name}`);
    parts.push(Buffer.from([l.length]), l);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export function buildOpt(e: EdnsOptions = {}): Buffer {
  const opts = (e.options ?? []).map((o) => {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(o.code, 0);
    h.writeUInt16BE(o.data.length, 2);
    return Buffer.concat([h, o.data]);
  });
  const rdata = Buffer.concat(opts);
  const b = Buffer.alloc(11);
  b[0] = 0; // root owner
  b.writeUInt16BE(41, 1);
  b.writeUInt16BE(e.payload ?? 1232, 3);
  b[5] = e.extRcode ?? 0;
  b[6] = e.version ?? 0;
  b.writeUInt16BE(((e.do ? 1 : 0) << 15) | ((e.zFlags ?? 0) & 0x7fff), 7);
  b.writeUInt16BE(rdata.length, 9);
  return Buffer.concat([b, rdata]);
}

export function buildQuery(q: QueryOptions): Buffer {
  const questions: Question[] =
    q.questions ?? (q.name !== undefined ? [{ name: q.name, type: q.type ?? "A", class: q.class ?? "IN" }] : []);
  const edns = q.edns === true ? {} : q.edns === false || q.edns === undefined ? undefined : q.edns;
  const optCount = edns ? (q.optCount ?? 1) : 0;
  const h = Buffer.alloc(12);
  h.writeUInt16BE(q.id ?? Math.floor(Math.random() * 65536), 0);
  let flags = 0;
  if (q.qr) flags |= 0x8000;
  flags |= ((q.opcode ?? 0) & 0xf) << 11;
  if (q.aa) flags |= 0x0400;
  if (q.tc) flags |= 0x0200;
  if (q.rd) flags |= 0x0100;
  if (q.ra) flags |= 0x0080;
  if (q.z) flags |= 0x0040;
  if (q.ad) flags |= 0x0020;
  if (q.cd) flags |= 0x0010;
  flags |= (q.rcode ?? 0) & 0xf;
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(questions.length, 4);
  h.writeUInt16BE(0, 6);
  h.writeUInt16BE(0, 8);
  h.writeUInt16BE(optCount, 10);
  const parts = [h];
  for (const qq of questions) {
    const tc = Buffer.alloc(4);
    tc.writeUInt16BE(typeCode(qq.type), 0);
    tc.writeUInt16BE(classCode(qq.class ?? "IN"), 2);
    parts.push(encodeName(qq.name), tc);
  }
  for (let i = 0; i < optCount; i++) parts.push(buildOpt(edns));
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------
// Transport
// ---------------------------------------------------------------------------------------------

export interface SendOptions {
  timeoutMs?: number;
}

/** Send one datagram; resolve with the first datagram received back, or null after the timeout. */
export function sendUdp(host: string, port: number, msg: Buffer, opts: SendOptions = {}): Promise<Buffer | null> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(host) ? "udp6" : "udp4");
    let done = false;
    const finish = (v: Buffer | null, err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(v);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    sock.on("message", (m) => finish(m));
    sock.on("error", (e) => finish(null, e));
    sock.send(msg, port, host, (err) => {
      if (err) finish(null, err);
    });
  });
}

/**
 * Open one TCP connection, write every message (each with its 2-byte length prefix, all in one write
 * unless `raw` is given), and collect `expect` framed responses (default: one per message).
 * Resolves with what arrived before the timeout or the server closing.
 */
export function sendTcpMany(
  host: string,
  port: number,
  msgs: Buffer[],
  opts: SendOptions & { expect?: number; raw?: Buffer } = {},
): Promise<{ responses: Buffer[]; closed: boolean }> {
  const timeoutMs = opts.timeoutMs ?? 2000;
  const expect = opts.expect ?? msgs.length;
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const responses: Buffer[] = [];
    let buf = Buffer.alloc(0);
    let done = false;
    let closed = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ responses, closed });
    };
    const timer = setTimeout(finish, timeoutMs);
    sock.on("connect", () => {
      if (opts.raw) sock.write(opts.raw);
      else
        sock.write(
          Buffer.concat(
            msgs.flatMap((m) => {
              const l = Buffer.alloc(2);
              l.writeUInt16BE(m.length, 0);
              return [l, m];
            }),
          ),
        );
    });
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        responses.push(buf.subarray(2, 2 + len));
        buf = buf.subarray(2 + len);
      }
      if (responses.length >= expect) finish();
    });
    sock.on("error", () => {
      closed = true;
      finish();
    });
    sock.on("close", () => {
      closed = true;
      finish();
    });
  });
}

export async function sendTcp(host: string, port: number, msg: Buffer, opts: SendOptions = {}): Promise<Buffer | null> {
  const r = await sendTcpMany(host, port, [msg], opts);
  return r.responses[0] ?? null;
}

export type Transport = "udp" | "tcp";

export function send(transport: Transport, host: string, port: number, msg: Buffer, opts: SendOptions = {}) {
  return transport === "udp" ? sendUdp(host, port, msg, opts) : sendTcp(host, port, msg, opts);
}

// ---------------------------------------------------------------------------------------------
// Normaliser (dns-packet based)
// ---------------------------------------------------------------------------------------------

export interface NormRRset {
  /** Owner, lower-cased, with a trailing dot. */
  owner: string;
  type: string;
  class: string;
  /** The distinct TTLs seen (an RRset should have exactly one). */
  ttl: number[];
  /**
   * Each RDATA re-encoded uncompressed by dns-packet, as hex, sorted, with the domain names inside it
   * lower-cased (the canonical form of RFC 4034 §6.2): DNS names compare case-insensitively (RFC 4343),
   * and Knot lower-cases them at load while hadns keeps the written case. Everything else is exact.
   */
  rdata: string[];
  /** The same RDATA with names in the case they came in (after decompression), same order as `rdata`. */
  rdataExact: string[];
  /** Human-readable decoded RDATA, same order as `rdata` (for messages only). */
  text: string[];
}

export interface NormOpt {
  payload: number;
  version: number;
  do: boolean;
  /** Upper 8 bits of the extended RCODE, as carried in the OPT TTL. */
  extRcode: number;
  /** Remaining OPT flag bits besides DO. */
  z: number;
  options: Array<{ code: number; data: string }>;
}

export interface Normalised {
  id: number;
  opcode: number;
  /** Full RCODE: header nibble plus the OPT's extended bits. */
  rcode: number;
  flags: { qr: boolean; aa: boolean; tc: boolean; rd: boolean; ra: boolean; z: boolean; ad: boolean; cd: boolean };
  counts: { qd: number; an: number; ns: number; ar: number };
  /** The question section bytes exactly as sent back, hex (names may be compressed only if the server did so). */
  questionHex: string;
  answer: NormRRset[];
  authority: NormRRset[];
  additional: NormRRset[];
  /** OPT records found in the additional section (normally 0 or 1). */
  opt: NormOpt[];
  /** Set when dns-packet could not decode the sections; header fields are still filled in. */
  decodeError?: string;
  size: number;
}

/** Byte length of the question section, read straight from the wire (labels until a 0 or a pointer). */
function questionSectionEnd(buf: Buffer, qd: number): number {
  let off = 12;
  for (let i = 0; i < qd; i++) {
    for (;;) {
      if (off >= buf.length) return buf.length;
      const l = buf[off]!;
      if (l === 0) {
        off += 1;
        break;
      }
      if ((l & 0xc0) === 0xc0) {
        off += 2;
        break;
      }
      off += 1 + l;
    }
    off += 4;
  }
  return Math.min(off, buf.length);
}

function fqdn(n: string): string {
  if (n === "." || n === "") return ".";
  return n.endsWith(".") ? n : n + ".";
}

function rdataHex(type: string, data: unknown): string {
  const enc = dnsPacket.record(type);
  try {
    const b: Buffer = enc.encode(data);
    // rdata encoders write a 2-byte RDLENGTH first
    return b.subarray(2).toString("hex");
  } catch {
    return Buffer.isBuffer(data) ? (data as Buffer).toString("hex") : JSON.stringify(data);
  }
}

const lc = (v: unknown) => (typeof v === "string" ? v.toLowerCase() : v);

/** Lower-case the domain names inside decoded RDATA (RFC 4034 §6.2 list, for the types dns-packet decodes). */
function canonData(type: string, data: any): any {
  switch (type) {
    case "NS":
    case "CNAME":
    case "PTR":
    case "DNAME":
      return lc(data);
    case "MX":
      return { ...data, exchange: lc(data.exchange) };
    case "SOA":
      return { ...data, mname: lc(data.mname), rname: lc(data.rname) };
    case "SRV":
      return { ...data, target: lc(data.target) };
    case "RP":
      return { ...data, mbox: lc(data.mbox), txt: lc(data.txt) };
    case "NSEC":
      return { ...data, nextDomain: lc(data.nextDomain) };
    case "RRSIG":
      return { ...data, signersName: lc(data.signersName) };
    case "NAPTR":
      return { ...data, replacement: lc(data.replacement) };
    default:
      return data;
  }
}

function textOf(data: unknown): string {
  return JSON.stringify(data, (_k, v) => {
    if (v && typeof v === "object" && v.type === "Buffer" && Array.isArray(v.data)) {
      return Buffer.from(v.data).toString("latin1");
    }
    return v;
  });
}

function groupRRsets(records: any[]): NormRRset[] {
  const map = new Map<string, NormRRset & { pairs: Array<[string, string, string]> }>();
  for (const r of records) {
    if (r.type === "OPT") continue;
    const owner = fqdn(String(r.name)).toLowerCase();
    const key = `${owner}|${r.type}|${r.class}`;
    let s = map.get(key);
    if (!s) {
      s = { owner, type: String(r.type), class: String(r.class), ttl: [], rdata: [], rdataExact: [], text: [], pairs: [] };
      map.set(key, s);
    }
    if (!s.ttl.includes(r.ttl)) s.ttl.push(r.ttl);
    s.pairs.push([rdataHex(r.type, canonData(r.type, r.data)), textOf(r.data), rdataHex(r.type, r.data)]);
  }
  const out: NormRRset[] = [];
  for (const s of map.values()) {
    s.pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    s.ttl.sort((a, b) => a - b);
    out.push({
      owner: s.owner,
      type: s.type,
      class: s.class,
      ttl: s.ttl,
      rdata: s.pairs.map((p) => p[0]),
      rdataExact: s.pairs.map((p) => p[2]),
      text: s.pairs.map((p) => p[1]),
    });
  }
  out.sort((a, b) => (a.owner + a.type < b.owner + b.type ? -1 : a.owner + a.type > b.owner + b.type ? 1 : 0));
  return out;
}

export function normalise(buf: Buffer): Normalised {
  if (buf.length < 12) throw new Error(`response shorter than a header (${buf.length} bytes)`);
  const flags = buf.readUInt16BE(2);
  const counts = { qd: buf.readUInt16BE(4), an: buf.readUInt16BE(6), ns: buf.readUInt16BE(8), ar: buf.readUInt16BE(10) };
  const qEnd = questionSectionEnd(buf, counts.qd);
  const n: Normalised = {
    id: buf.readUInt16BE(0),
    opcode: (flags >> 11) & 0xf,
    rcode: flags & 0xf,
    flags: {
      qr: !!(flags & 0x8000),
      aa: !!(flags & 0x0400),
      tc: !!(flags & 0x0200),
      rd: !!(flags & 0x0100),
      ra: !!(flags & 0x0080),
      z: !!(flags & 0x0040),
      ad: !!(flags & 0x0020),
      cd: !!(flags & 0x0010),
    },
    counts,
    questionHex: buf.subarray(12, qEnd).toString("hex"),
    answer: [],
    authority: [],
    additional: [],
    opt: [],
    size: buf.length,
  };
  let p: any;
  try {
    p = dnsPacket.decode(buf);
  } catch (e) {
    n.decodeError = (e as Error).message;
    return n;
  }
  n.answer = groupRRsets(p.answers ?? []);
  n.authority = groupRRsets(p.authorities ?? []);
  n.additional = groupRRsets(p.additionals ?? []);
  for (const r of p.additionals ?? []) {
    if (r.type !== "OPT") continue;
    n.opt.push({
      payload: r.udpPayloadSize,
      version: r.ednsVersion,
      do: !!(r.flags & 0x8000),
      extRcode: r.extendedRcode,
      z: r.flags & 0x7fff,
      options: (r.options ?? []).map((o: any) => ({ code: o.code, data: Buffer.from(o.data ?? []).toString("hex") })),
    });
  }
  if (n.opt.length === 1) n.rcode |= n.opt[0]!.extRcode << 4;
  return n;
}

/** Compact one-line-per-RRset text of a normalised response, for diffs and failure messages. */
export function describe(n: Normalised | null): string {
  if (!n) return "(no response)";
  const f = Object.entries(n.flags)
    .filter(([, v]) => v)
    .map(([k]) => k)
    .join(" ");
  const lines = [
    `rcode=${n.rcode} opcode=${n.opcode} flags=[${f}] qd=${n.counts.qd} an=${n.counts.an} ns=${n.counts.ns} ar=${n.counts.ar} size=${n.size}`,
    `question=${n.questionHex}`,
  ];
  for (const o of n.opt) lines.push(`OPT payload=${o.payload} v=${o.version} do=${o.do} ext=${o.extRcode} z=${o.z} opts=${JSON.stringify(o.options)}`);
  for (const [name, sec] of [["AN", n.answer], ["NS", n.authority], ["AR", n.additional]] as const) {
    for (const s of sec) lines.push(`${name} ${s.owner} ${s.ttl.join("/")} ${s.class} ${s.type} ${s.text.join(" | ")}`);
  }
  if (n.decodeError) lines.push(`decodeError=${n.decodeError}`);
  return lines.join("\n");
}

/** The fields compared in the differential test, without the ID and byte size. */
export function comparable(n: Normalised | null): unknown {
  if (!n) return null;
  const { id: _id, size: _size, ...rest } = n;
  return {
    ...rest,
    answer: rest.answer.map(({ text: _t, rdataExact: _e, ...s }) => s),
    authority: rest.authority.map(({ text: _t, rdataExact: _e, ...s }) => s),
    additional: rest.additional.map(({ text: _t, rdataExact: _e, ...s }) => s),
  };
}

/** One line per record in wire order (not grouped), for exploration and debugging. */
export function describeWire(buf: Buffer | null): string {
  if (!buf) return "(no response)";
  const n = normalise(buf);
  const head = describe({ ...n, answer: [], authority: [], additional: [] });
  let p: any;
  try {
    p = dnsPacket.decode(buf);
  } catch {
    return head;
  }
  const lines = [head];
  for (const [tag, recs] of [["AN", p.answers], ["NS", p.authorities], ["AR", p.additionals]] as const) {
    for (const r of recs ?? []) {
      if (r.type === "OPT") continue;
      lines.push(`${tag} ${r.name}. ${r.ttl} ${r.class} ${r.type} ${textOf(r.data)}`);
    }
  }
  return lines.join("\n");
}
