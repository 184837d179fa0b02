// The zone tree: nodes keyed by name, RRsets per node, empty non-terminals, delegation points and
// DNAME owners marked once at load (RFC 1034 §4.2.1, §4.3.2; RFC 6672 §2.3 occlusion below a DNAME).

import { RRType } from "../wire/constants.js";
import { compactName, isAtOrBelow, parentKey, type Name } from "../wire/name.js";
import type { RR, RRset } from "./rr.js";

/**
 * The RRsets of one node, by type: the read side of a Map over a plain array (a node holds one to
 * three types; a Map costs ~200 bytes, which a million-name zone feels, and is no faster to search).
 */
export class RRsets {
  /**
   * The first RRset in `first`, the others (in order of addition) in `rest`: most nodes hold one
   * type, and an array for it would cost ~60 bytes more per node.
   */
  private first: RRset | undefined = undefined;
  private rest: RRset[] | undefined = undefined;

  get size(): number {
    return this.first === undefined ? 0 : this.rest === undefined ? 1 : 1 + this.rest.length;
  }

  get(type: number): RRset | undefined {
    const first = this.first;
    if (first === undefined || first.type === type) return first;
    const rest = this.rest;
    if (rest !== undefined) for (let i = 0; i < rest.length; i++) if (rest[i]!.type === type) return rest[i];
    return undefined;
  }

  has(type: number): boolean {
    return this.get(type) !== undefined;
  }

  set(type: number, set: RRset): this {
    const first = this.first;
    if (first === undefined || first.type === type) {
      this.first = set;
      return this;
    }
    const rest = this.rest;
    if (rest === undefined) {
      // A first push would give the array room for 17 elements: start with an exact one instead.
      this.rest = [set];
      return this;
    }
    for (let i = 0; i < rest.length; i++) {
      if (rest[i]!.type === type) {
        rest[i] = set;
        return this;
      }
    }
    rest.push(set);
    return this;
  }

  /** The RRset of the lowest type (ANY, RFC 8482 §4.1, as Knot DNS); allocates nothing. */
  lowest(): RRset | undefined {
    let best = this.first;
    const rest = this.rest;
    if (rest !== undefined) for (let i = 0; i < rest.length; i++) if (rest[i]!.type < best!.type) best = rest[i];
    return best;
  }

  private list(): RRset[] {
    const first = this.first;
    if (first === undefined) return [];
    return this.rest === undefined ? [first] : [first, ...this.rest];
  }

  keys(): IterableIterator<number> {
    return this.list().map((s) => s.type).values();
  }

  values(): IterableIterator<RRset> {
    return this.list().values();
  }

  entries(): IterableIterator<[number, RRset]> {
    return this.list().map((s): [number, RRset] => [s.type, s]).values();
  }

  [Symbol.iterator](): IterableIterator<[number, RRset]> {
    return this.entries();
  }

  forEach(fn: (set: RRset, type: number) => void): void {
    for (const s of this.list()) fn(s, s.type);
  }

  /** Sorts each RRset's RDATA canonically (RFC 4034 §6.3) and trims the arrays to their length. */
  seal(): void {
    const first = this.first;
    if (first !== undefined && first.rdatas.length > 1) first.rdatas = first.rdatas.slice().sort(Buffer.compare);
    const rest = this.rest;
    if (rest === undefined) return;
    for (const set of rest) if (set.rdatas.length > 1) set.rdatas = set.rdatas.slice().sort(Buffer.compare);
    if (rest.length > 1) this.rest = rest.slice();
  }
}

export interface ZoneNode {
  readonly name: Name;
  readonly rrsets: RRsets;
  /** Nearest delegation point at or above this node, below the apex (this node is then not authoritative). */
  delegation: ZoneNode | undefined;
  /** Nearest DNAME owner strictly above this node: the node is occluded and answered by substitution. */
  dnameAbove: ZoneNode | undefined;
  /** A `*` child exists (RFC 4592 source of synthesis). */
  wildcard: ZoneNode | undefined;
}

export interface ZoneInfo {
  origin: Name;
  file: string;
}

export class Zone {
  readonly origin: Name;
  readonly file: string;
  readonly nodes = new Map<string, ZoneNode>();
  readonly apex: ZoneNode;
  recordCount = 0;

  constructor(info: ZoneInfo, records: Iterable<RR>) {
    this.origin = info.origin;
    this.file = info.file;
    this.apex = this.nodeFor(info.origin);
    for (const rr of records) this.add(rr);
    this.link();
  }

  get soa(): RRset {
    const soa = this.apex.rrsets.get(RRType.SOA);
    if (!soa) throw new Error(`zone ${this.file} has no SOA`);
    return soa;
  }

  get serial(): number {
    const rd = this.soa.rdatas[0]!;
    return rd.readUInt32BE(rd.length - 20);
  }

  /** Negative-answer TTL: min(SOA TTL, SOA MINIMUM) (RFC 2308 §5). */
  get negativeTtl(): number {
    const rd = this.soa.rdatas[0]!;
    return Math.min(this.soa.ttl, rd.readUInt32BE(rd.length - 4));
  }

  /**
   * The node for a name inside the zone, created (with its empty non-terminal ancestors) if the zone
   * file has no data there: pools answer at names the file may not mention.
   */
  ensureNode(name: Name): ZoneNode {
    const existing = this.nodes.get(name.key);
    if (existing) return existing;
    if (!isAtOrBelow(name.key, this.origin.key)) throw new Error(`${name.key} is outside the zone`);
    const parentKeyOf = parentKey(name.key)!;
    const parent = this.nodes.get(parentKeyOf) ?? this.ensureNode({ wire: name.wire.subarray(name.wire[0]! + 1), key: parentKeyOf });
    const node = this.nodeFor(name);
    node.dnameAbove = parent.dnameAbove ?? (parent.rrsets.has(RRType.DNAME) ? parent : undefined);
    node.delegation = parent.delegation;
    if (name.wire[0] === 1 && name.wire[1] === 0x2a) parent.wildcard = node;
    return node;
  }

  private nodeFor(name: Name): ZoneNode {
    let node = this.nodes.get(name.key);
    if (!node) {
      node = { name: compactName(name), rrsets: new RRsets(), delegation: undefined, dnameAbove: undefined, wildcard: undefined };
      this.nodes.set(name.key, node);
    }
    return node;
  }

  private add(rr: RR): void {
    if (!isAtOrBelow(rr.owner.key, this.origin.key)) return; // checked and reported by checkZoneContent
    const node = this.nodeFor(rr.owner);
    let set = node.rrsets.get(rr.type);
    if (!set) {
      // Most RRsets hold one record: an exact array (a push onto [] makes room for 17; see RRsets.seal).
      node.rrsets.set(rr.type, { owner: node.name, type: rr.type, class: rr.class, ttl: rr.ttl, rdatas: [rr.rdata] });
      this.recordCount++;
      return;
    }
    // RFC 2181 §5: an RRset holds no duplicate records; drop them silently as Knot does.
    for (const existing of set.rdatas) if (existing.equals(rr.rdata)) return;
    set.rdatas.push(rr.rdata);
    this.recordCount++;
  }

  /** Create empty non-terminals and mark delegations, DNAME occlusion and wildcards. */
  private link(): void {
    const originKey = this.origin.key;
    for (const node of [...this.nodes.values()]) {
      let key = node.name.key;
      while (key !== originKey) {
        const up = parentKey(key)!;
        if (this.nodes.has(up)) break;
        // Keep the written case of the child's suffix for the new empty non-terminal.
        const childWire = node.name.wire;
        const cased = childWire.subarray(childWire.length - up.length);
        this.nodes.set(up, {
          name: compactName({ wire: Buffer.from(cased), key: up }),
          rrsets: new RRsets(),
          delegation: undefined,
          dnameAbove: undefined,
          wildcard: undefined,
        });
        key = up;
      }
    }
    // RDATA in canonical order (RFC 4034 §6.3), as Knot DNS serves it: answers do not depend on file order.
    // Exact-length arrays too: one grown by push keeps room for 17 elements, for each of a million RRsets.
    for (const node of this.nodes.values()) node.rrsets.seal();
    // Shallow names first, so each node can take its parent's marks: bucketed by key length (a
    // parent's key is shorter than its child's), not sorted.
    const byLength: ZoneNode[][] = [];
    for (const node of this.nodes.values()) (byLength[node.name.key.length] ??= []).push(node);
    for (const bucket of byLength) {
      if (bucket === undefined) continue;
      for (const node of bucket) {
        if (node === this.apex) continue;
        const parent = this.nodes.get(parentKey(node.name.key)!)!;
        node.dnameAbove = parent.dnameAbove ?? (parent.rrsets.has(RRType.DNAME) ? parent : undefined);
        node.delegation = parent.delegation ?? (node.rrsets.has(RRType.NS) ? node : undefined);
        const key = node.name.key;
        if (key.charCodeAt(0) === 1 && key.charCodeAt(1) === 0x2a) parent.wildcard = node;
      }
    }
  }
}
