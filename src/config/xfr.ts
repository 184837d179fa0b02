// The `transfers:` section of the config (issue 6): hadns as a hidden primary for stock secondaries.
// TSIG keys (RFC 8945) with `${VAR}` secrets, who may transfer (addresses, networks, a required key),
// whom to NOTIFY (RFC 1996), the journal depth for IXFR (RFC 1995), the serial policy and the NOTIFY
// coalescing delay; each at the top of the section for every zone, or per zone under `zones:`.
// Every mistake names file, line and key.
//
//   transfers:
//     keys:
//       xfr.example.:  { algorithm: hmac-sha256, secret: "${XFR_SECRET}" }
//     allow: [192.0.2.53, "2001:db8::/64"]
//     key: xfr.example.            # every transfer and NOTIFY signed with it
//     notify: [192.0.2.53, "[2001:db8::53]:5353"]
//     journal_depth: 20
//     serial: increment            # or unixtime
//     notify_delay: 200ms
//     zones:                       # optional: only these zones, each with its own overrides
//       example.test.: { notify: [192.0.2.54] }

import { isIP } from "node:net";
import { nameFromText, nameToText, type Name } from "../wire/name.js";
import { parseDurationMs } from "../zone/ttl.js";
import { parseAclEntry, type AclEntry } from "../xfr/acl.js";
import { SERIAL_POLICIES, type SerialPolicy } from "../xfr/serial.js";
import { decodeSecret, TSIG_ALGORITHMS, type TsigAlgorithm, type TsigKey } from "../xfr/tsig.js";
import { expandEnvText } from "./env.js";
import type { Path, SourceReader } from "./source.js";

export interface NotifyTarget {
  host: string;
  port: number;
  /** As written, for logs and status. */
  text: string;
}

export interface XfrZoneSettings {
  allow: AclEntry[];
  /** Key (by name key) every transfer must be signed with, and NOTIFY is signed with. */
  key?: TsigKey;
  notify: NotifyTarget[];
  journalDepth: number;
  serial: SerialPolicy;
  notifyDelayMs: number;
}

export interface XfrZoneEntry {
  /** The zone's apex as written. */
  origin: Name;
  settings: XfrZoneSettings;
  /** Where the entry is, for errors found later (a zone hadns does not serve). */
  file: string;
  line: number;
}

export interface XfrSettings {
  file: string;
  line: number;
  /** Keys by name key (lower-cased wire form). */
  keys: Map<string, TsigKey>;
  /** Settings of every zone not listed under `zones`. */
  defaults: XfrZoneSettings;
  /** null: every zone hadns serves is transferred with `defaults`; else only these, by apex key. */
  zones: Map<string, XfrZoneEntry> | null;
}

export const XFR_DEFAULTS = { journalDepth: 20, serial: "increment" as SerialPolicy, notifyDelayMs: 200 };
const SHARED_KEYS = ["allow", "key", "notify", "journal_depth", "serial", "notify_delay"] as const;
/** Shortest secret accepted: RFC 8945 §6 wants at least the hash's length; under 16 octets is guessable. */
const MIN_SECRET = 16;

export function readTransfers(r: SourceReader, env: NodeJS.ProcessEnv): XfrSettings | undefined {
  const top: Path = ["transfers"];
  if (!r.map(top, ["keys", ...SHARED_KEYS, "zones"])) return undefined;
  const keys = readKeys(r, env);
  const base: XfrZoneSettings = { allow: [], notify: [], ...XFR_DEFAULTS };
  const defaults = readShared(r, top, base, keys);
  const settings: XfrSettings = { ...r.where(top), keys, defaults, zones: null };
  const zonesNode = r.at([...top, "zones"]);
  if (zonesNode && !(zonesNode.kind === "scalar" && zonesNode.value === null)) {
    if (zonesNode.kind !== "map") {
      r.error([...top, "zones"], "expected a map of zone apex to its settings, e.g. { example.test.: { notify: [192.0.2.53] } }");
    } else {
      settings.zones = new Map();
      if (zonesNode.entries.size === 0) r.error([...top, "zones"], "empty: name the zones to transfer, or leave zones out to transfer every zone");
      for (const apex of zonesNode.entries.keys()) {
        const path: Path = [...top, "zones", apex];
        let origin: Name;
        try {
          origin = nameFromText(apex.endsWith(".") ? apex : apex + ".");
        } catch (e) {
          r.error(path, `"${apex}" is not a domain name: ${(e as Error).message}`);
          continue;
        }
        const node = r.at(path);
        let zs = defaults;
        if (node && !(node.kind === "scalar" && node.value === null)) {
          if (!r.map(path, SHARED_KEYS)) continue;
          zs = readShared(r, path, defaults, keys);
        }
        if (settings.zones.has(origin.key)) r.error(path, "this zone is listed twice");
        settings.zones.set(origin.key, { origin, settings: zs, ...r.where(path) });
        if (zs.allow.length === 0) r.error(path, "no allow list for this zone: give `allow` here or at transfers.allow (who may transfer)");
      }
    }
  }
  if (settings.zones === null && defaults.allow.length === 0 && !r.has([...top, "allow"])) {
    r.error(top, "missing allow: list the addresses or networks of your secondaries (e.g. allow: [192.0.2.53, 10.0.0.0/8])");
  }
  return settings;
}

function keyNameOf(text: string): Name {
  return nameFromText(text.endsWith(".") ? text : text + ".");
}

function readKeys(r: SourceReader, env: NodeJS.ProcessEnv): Map<string, TsigKey> {
  const out = new Map<string, TsigKey>();
  const path: Path = ["transfers", "keys"];
  const node = r.at(path);
  if (!node || (node.kind === "scalar" && node.value === null)) return out;
  if (node.kind !== "map") {
    r.error(path, "expected a map of key name to { algorithm, secret }");
    return out;
  }
  for (const name of node.entries.keys()) {
    const kp: Path = [...path, name];
    let keyName: Name;
    try {
      keyName = keyNameOf(name);
    } catch (e) {
      r.error(kp, `"${name}" is not a valid key name (key names are domain names): ${(e as Error).message}`);
      continue;
    }
    if (!r.map(kp, ["algorithm", "secret"])) {
      if (!r.at(kp) || r.at(kp)!.kind !== "map") r.error(kp, "expected { algorithm: hmac-sha256, secret: <base64> }");
      continue;
    }
    const algorithm = (r.oneOf([...kp, "algorithm"], TSIG_ALGORITHMS) ?? (r.has([...kp, "algorithm"]) ? undefined : "hmac-sha256")) as TsigAlgorithm | undefined;
    const raw = r.string([...kp, "secret"], { nonEmpty: true, required: true });
    if (raw === undefined || algorithm === undefined) continue;
    const x = expandEnvText(raw, env);
    if ("error" in x) {
      r.error([...kp, "secret"], x.error);
      continue;
    }
    let secret: Buffer;
    try {
      secret = decodeSecret(x.value);
    } catch (e) {
      r.error([...kp, "secret"], (e as Error).message);
      continue;
    }
    if (secret.length < MIN_SECRET) {
      r.error([...kp, "secret"], `the secret is ${secret.length} octets; use at least ${MIN_SECRET} (e.g. \`openssl rand -base64 32\`)`);
      continue;
    }
    if (out.has(keyName.key)) r.error(kp, "another key has this name (key names compare without case and trailing dot)");
    out.set(keyName.key, { name: keyName, algorithm, secret });
  }
  return out;
}

/** allow/key/notify/journal_depth/serial/notify_delay at `path`, over `inherit`. */
function readShared(r: SourceReader, path: Path, inherit: XfrZoneSettings, keys: Map<string, TsigKey>): XfrZoneSettings {
  const s: XfrZoneSettings = { ...inherit };
  const allow = r.list([...path, "allow"], { single: true });
  if (allow) {
    s.allow = [];
    for (const item of allow) {
      const e = r.parsed(item.path, parseAclEntry);
      if (e) s.allow.push(e);
    }
    if (allow.length === 0) r.error([...path, "allow"], "empty list: nobody could transfer; give the secondaries' addresses");
  }
  const keyText = r.string([...path, "key"], { nonEmpty: true });
  if (keyText !== undefined) {
    let k: TsigKey | undefined;
    try {
      k = keys.get(keyNameOf(keyText).key);
    } catch {
      k = undefined;
    }
    if (!k) {
      const known = [...keys.values()].map((x) => nameToText(x.name));
      r.error([...path, "key"], `no key "${keyText}" under transfers.keys${known.length ? ` (known: ${known.join(", ")})` : ""}`);
    } else s.key = k;
  }
  const notify = r.list([...path, "notify"], { single: true });
  if (notify) {
    s.notify = [];
    for (const item of notify) {
      const t = r.parsed(item.path, parseNotifyTarget);
      if (t) s.notify.push(t);
    }
  }
  const depth = r.int([...path, "journal_depth"], { min: 0, max: 10_000 });
  if (depth !== undefined) s.journalDepth = depth;
  const serial = r.oneOf([...path, "serial"], SERIAL_POLICIES);
  if (serial !== undefined) s.serial = serial;
  const delay = r.parsed([...path, "notify_delay"], (t) => parseDurationMs(t, { what: "notify_delay" }));
  if (delay !== undefined) {
    if (delay > 60_000) r.error([...path, "notify_delay"], "over 60s: secondaries would lag that long behind every change");
    else s.notifyDelayMs = delay;
  }
  return s;
}

/** `192.0.2.53` (port 53), `192.0.2.53:5353`, `[2001:db8::53]:5353`, `2001:db8::53`. */
export function parseNotifyTarget(text: string): NotifyTarget {
  const t = text.trim();
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(t);
  const v4 = /^([^:[\]]+):(\d+)$/.exec(t);
  let host: string;
  let port = 53;
  if (v6 || v4) {
    host = (v6 ?? v4)![1]!;
    port = Number((v6 ?? v4)![2]);
  } else host = t;
  const family = isIP(host);
  if (family === 0) throw new Error(`"${text}" is not an IP address with an optional port (192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:5353)`);
  if (v6 && family !== 6) throw new Error(`"${text}": only IPv6 addresses go in brackets`);
  if (port < 1 || port > 65535) throw new Error(`port ${port} in "${text}" is not from 1 to 65535`);
  return { host, port, text: t };
}
