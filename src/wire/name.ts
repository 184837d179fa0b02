// Domain names (RFC 1035 §2.3.4, §3.1; RFC 4343 case rules; presentation escapes per RFC 1035 §5.1).
//
// A Name keeps its wire form with the case it was written in, and a `key`: the same wire bytes with
// ASCII A-Z folded to lower case, as a latin1 string. Keys compare and hash exactly as DNS names do,
// a parent's key is a suffix of its child's at a label boundary, and a query's key is made from its
// question bytes without any text conversion.

export interface Name {
  /** Uncompressed wire form, case preserved, ending with the root label (0). */
  readonly wire: Buffer;
  /** Lower-cased wire form as a latin1 string: the identity of the name. */
  readonly key: string;
}

/**
 * The name of a node written all in lower case, as most are: its wire form is the bytes of its key,
 * made when asked (names are written out when answers are compiled, not per query). A Buffer costs
 * ~100 bytes of heap besides its bytes, 60 MB for a zone of 600k names.
 */
export class KeyName implements Name {
  constructor(readonly key: string) {}

  get wire(): Buffer {
    return Buffer.from(this.key, "latin1");
  }
}

/** `name` itself when written with upper case letters, else a KeyName. */
export function compactName(name: Name): Name {
  if (name instanceof KeyName) return name;
  const w = name.wire;
  const k = name.key;
  if (w.length !== k.length) return name;
  for (let i = 0; i < w.length; i++) if (w[i] !== k.charCodeAt(i)) return name;
  return new KeyName(k);
}

export class NameError extends Error {}

export const MAX_NAME_WIRE = 255;
export const MAX_LABEL = 63;

/**
 * Fold ASCII A-Z to a-z in place (DNS names compare case-insensitively only for ASCII, RFC 4343).
 * The per-query loops (wire/query.ts makeKey and decodeQuery, answer/flat-answers.ts sameName)
 * fold inline: through a shared per-octet helper the flat-table path measured ~10 % slower.
 */
export function foldAscii<T extends Uint8Array>(buf: T, start = 0, end = buf.length): T {
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c >= 0x41 && c <= 0x5a) buf[i] = c | 0x20;
  }
  return buf;
}

/** Build a name from uncompressed wire bytes (copied; validated). */
export function nameFromWire(wire: Buffer): Name {
  validateWire(wire);
  const own = Buffer.from(wire);
  const lower = foldAscii(Buffer.from(wire));
  return { wire: own, key: lower.toString("latin1") };
}

function validateWire(wire: Buffer): void {
  if (wire.length > MAX_NAME_WIRE) throw new NameError(`name is ${wire.length} octets long; the limit is 255`);
  let i = 0;
  for (;;) {
    if (i >= wire.length) throw new NameError("name does not end with the root label");
    const len = wire[i]!;
    if (len === 0) {
      if (i !== wire.length - 1) throw new NameError("bytes after the root label");
      return;
    }
    if (len > MAX_LABEL) throw new NameError(`label of ${len} octets; the limit is 63`);
    i += len + 1;
  }
}

export function nameFromLabels(labels: readonly Buffer[]): Name {
  let size = 1;
  for (const l of labels) {
    if (l.length === 0) throw new NameError("empty label");
    if (l.length > MAX_LABEL) throw new NameError(`label of ${l.length} octets; the limit is 63`);
    size += l.length + 1;
  }
  if (size > MAX_NAME_WIRE) throw new NameError(`name is ${size} octets long; the limit is 255`);
  const wire = Buffer.allocUnsafe(size);
  let o = 0;
  for (const l of labels) {
    wire[o++] = l.length;
    l.copy(wire, o);
    o += l.length;
  }
  wire[o] = 0;
  const lower = foldAscii(Buffer.from(wire));
  return { wire, key: lower.toString("latin1") };
}

export const ROOT: Name = nameFromWire(Buffer.from([0]));

export function labelsOf(name: Name): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  const w = name.wire;
  while (w[i] !== 0) {
    const len = w[i]!;
    out.push(w.subarray(i + 1, i + 1 + len));
    i += len + 1;
  }
  return out;
}

/** Key of the parent name (one label removed); the root has no parent. */
export function parentKey(key: string): string | undefined {
  const len = key.charCodeAt(0);
  if (len === 0) return undefined;
  return key.substring(len + 1);
}

/** True when `key` is `ancestor` or below it (label-boundary suffix match). */
export function isAtOrBelow(key: string, ancestor: string): boolean {
  const d = key.length - ancestor.length;
  if (d < 0 || !key.endsWith(ancestor)) return false;
  let i = 0;
  while (i < d) i += key.charCodeAt(i) + 1;
  return i === d;
}

/** Replace the suffix `from` of `name` by `to` (DNAME substitution, RFC 6672 §2.2). */
export function replaceSuffix(name: Name, from: Name, to: Name): Name {
  const keep = name.wire.length - from.wire.length;
  const size = keep + to.wire.length;
  if (size > MAX_NAME_WIRE) throw new NameError("DNAME substitution makes a name over 255 octets (YXDOMAIN)");
  return nameFromWire(Buffer.concat([name.wire.subarray(0, keep), to.wire]));
}

// ---- presentation format -------------------------------------------------------------------

function escapeLabel(label: Buffer): string {
  let s = "";
  for (const c of label) {
    if (c === 0x2e || c === 0x5c || c === 0x22 || c === 0x28 || c === 0x29 || c === 0x3b || c === 0x40 || c === 0x24) {
      s += "\\" + String.fromCharCode(c);
    } else if (c <= 0x20 || c >= 0x7f) {
      s += "\\" + c.toString().padStart(3, "0");
    } else {
      s += String.fromCharCode(c);
    }
  }
  return s;
}

/** Absolute presentation form with a trailing dot; the root is ".". */
export function nameToText(name: Name): string {
  const labels = labelsOf(name);
  if (labels.length === 0) return ".";
  return labels.map(escapeLabel).join(".") + ".";
}

/**
 * Parse a name in presentation format (RFC 1035 §5.1): `\X` and `\DDD` escapes, `@` for the origin,
 * relative names completed with `origin`. Throws NameError with a readable message.
 */
export function nameFromText(text: string, origin?: Name | null): Name {
  if (text === "@") {
    if (!origin) throw new NameError("'@' used with no $ORIGIN set");
    return origin;
  }
  if (text === ".") return ROOT;
  if (text.length === 0) throw new NameError("empty name");
  const labels: Buffer[] = [];
  let cur: number[] = [];
  let absolute = false;
  let i = 0;
  while (i < text.length) {
    const ch = text.charCodeAt(i);
    if (ch === 0x5c) {
      const d = /^\d{3}/.exec(text.slice(i + 1, i + 4));
      if (d) {
        const v = Number(d[0]);
        if (v > 255) throw new NameError(`escape \\${d[0]} is over 255 in "${text}"`);
        cur.push(v);
        i += 4;
      } else {
        if (i + 1 >= text.length) throw new NameError(`name "${text}" ends with a lone backslash`);
        const c = text.charCodeAt(i + 1);
        if (c > 0xff) throw new NameError(`name "${text}" holds a character outside ASCII; write it as IDNA (xn--…)`);
        cur.push(c);
        i += 2;
      }
      continue;
    }
    if (ch === 0x2e) {
      if (cur.length === 0) throw new NameError(`empty label in "${text}"`);
      labels.push(Buffer.from(cur));
      cur = [];
      if (i === text.length - 1) absolute = true;
      i++;
      continue;
    }
    if (ch > 0x7e || ch < 0x21) {
      throw new NameError(`name "${text}" holds a character outside printable ASCII; use IDNA (xn--…) or \\DDD escapes`);
    }
    cur.push(ch);
    i++;
  }
  if (cur.length > 0) labels.push(Buffer.from(cur));
  for (const l of labels) {
    if (l.length > MAX_LABEL) throw new NameError(`label of ${l.length} octets in "${text}"; the limit is 63`);
  }
  if (!absolute) {
    if (!origin) throw new NameError(`relative name "${text}" with no $ORIGIN set`);
    labels.push(...labelsOf(origin));
  }
  return nameFromLabels(labels);
}
