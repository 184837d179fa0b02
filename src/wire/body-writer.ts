// Encodes the answer, authority and additional sections of a response ahead of time, with name
// compression (RFC 1035 §4.1.4) against a question whose name is only partly known.
//
// The question name is `prefix + suffix`: the suffix (a zone apex, a closest encloser, or the whole
// name for an exact match) is known when the template is built; the prefix length is known only when
// a query arrives. Every compression pointer into the suffix or into the body moves by the same
// amount, (actual qname length - suffix length), so each such pointer is recorded in `relocs` and
// patched per query. A pointer to the whole query name is always offset 12 and never moves.

import { rdataLayout, uncompressedNameLength } from "./rdata.js";
import { foldAscii, type Name } from "./name.js";

/** Owner placeholder: the query name as sent (wildcard synthesis, RFC 4592 §3.3.1). */
export const QNAME = "<qname>" as const;
export type Owner = Name | typeof QNAME;

const MAX_POINTER = 0x3fff;
/** Largest amount a pointer may move per query: a query name is at most 255 octets. */
const MAX_SHIFT = 255;

interface Target {
  offset: number;
  moves: boolean;
}

/**
 * Scratch space every writer starts in (finish() copies the body out). A fresh one per writer
 * would come from Buffer's shared pool and keep its 8 KB slab alive beside the bodies cut from it.
 */
let scratch: Buffer | null = Buffer.allocUnsafeSlow(4096);

export class BodyWriter {
  /** Taken from `scratch` (given back by finish) unless another writer holds it. */
  private buf = takeScratch();
  private leased = this.buf === leasedBuf;
  private pos = 0;
  /** Message offset of the body's first byte for the nominal question (12 + suffix + 4). */
  private readonly base: number;
  private readonly targets = new Map<string, Target>();
  private readonly relocs: number[] = [];
  /** Once set, names written are not compression targets (see freeze). */
  private frozen = false;

  constructor(questionSuffix: Name) {
    // The key is the wire form folded to lower case: the same length.
    this.base = 12 + questionSuffix.key.length + 4;
    // Register every suffix of the known part of the question name.
    const key = questionSuffix.key;
    let i = 0;
    while (key.charCodeAt(i) !== 0) {
      this.targets.set(key.substring(i), { offset: 12 + i, moves: true });
      i += key.charCodeAt(i) + 1;
    }
  }

  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private u16(v: number): void {
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }

  private u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  private bytes(b: Buffer): void {
    this.ensure(b.length);
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  private pointer(t: Target): void {
    if (t.moves) this.relocs.push(this.pos);
    this.u16(0xc000 | t.offset);
  }

  /** Write a name, compressed against earlier names when `compress` is set; always registered as a target. */
  writeName(name: Owner, compress: boolean): void {
    if (name === QNAME) {
      this.u16(0xc00c);
      return;
    }
    const key = name.key;
    // Read only when a label is written (a zone node's name may make its wire form when asked).
    let wire: Buffer | null = null;
    let i = 0;
    while (key.charCodeAt(i) !== 0) {
      const known = compress ? this.targets.get(key.substring(i)) : undefined;
      if (known) {
        this.pointer(known);
        return;
      }
      const here = this.base + this.pos;
      if (!this.frozen && here + MAX_SHIFT <= MAX_POINTER && !this.targets.has(key.substring(i))) {
        this.targets.set(key.substring(i), { offset: here, moves: true });
      }
      const len = key.charCodeAt(i);
      this.ensure(len + 1);
      (wire ??= name.wire).copy(this.buf, this.pos, i, i + len + 1);
      this.pos += len + 1;
      i += len + 1;
    }
    this.ensure(1);
    this.buf[this.pos++] = 0;
  }

  /** Write one resource record (RFC 1035 §4.1.3), compressing names inside RDATA where the type allows. */
  writeRR(owner: Owner, type: number, cls: number, ttl: number, rdata: Buffer): void {
    this.writeName(owner, true);
    this.u16(type);
    this.u16(cls);
    this.u32(ttl);
    const lenAt = this.pos;
    this.u16(0);
    let off = 0;
    for (const part of rdataLayout(type)) {
      if ("name" in part) {
        const n = uncompressedNameLength(rdata, off);
        const wire = rdata.subarray(off, off + n);
        this.writeName(nameOf(wire), part.compress);
        off += n;
      } else if ("fixed" in part) {
        this.bytes(rdata.subarray(off, off + part.fixed));
        off += part.fixed;
      } else {
        break;
      }
    }
    if (off < rdata.length) this.bytes(rdata.subarray(off));
    this.buf.writeUInt16BE(this.pos - lenAt - 2, lenAt);
  }

  /**
   * From now on no name written becomes a compression target: records written after this point can
   * be left out of a message one by one (the additional section over UDP) without breaking pointers.
   */
  freeze(): void {
    this.frozen = true;
  }

  finish(): { body: Buffer; relocs: number[] } {
    const body = Buffer.from(this.buf.subarray(0, this.pos));
    if (this.leased) {
      this.leased = false;
      // Keep the larger buffer if this writer outgrew the scratch one.
      scratch = this.buf.length <= 65536 ? this.buf : leasedBuf;
      leasedBuf = null;
    }
    return { body, relocs: this.relocs };
  }
}

let leasedBuf: Buffer | null = null;

function takeScratch(): Buffer {
  if (scratch === null) return Buffer.allocUnsafeSlow(256);
  leasedBuf = scratch;
  scratch = null;
  return leasedBuf;
}

function nameOf(wire: Buffer): Name {
  return { wire, key: foldAscii(Buffer.from(wire)).toString("latin1") };
}
