// Run Debian's real `dig` (bind9-dnsutils) and parse its text output into status, flags and sections.

import { execFile } from "node:child_process";

export const DIG = process.env.DIG ?? "dig";

/** Run dig with the given arguments; resolve with stdout (dig exits 0 even for NXDOMAIN/REFUSED). */
export function dig(args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(DIG, args, { timeout: opts.timeoutMs ?? 15000 }, (err, stdout, stderr) => {
      if (err && !stdout) reject(new Error(`dig ${args.join(" ")} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** `dig @host -p port <args>` with +time/+tries set so a silent server fails fast. */
export function digAt(host: string, port: number, args: string[], opts: { timeoutMs?: number } = {}): Promise<string> {
  return dig([`@${host}`, "-p", String(port), "+time=2", "+tries=1", ...args], opts);
}

export interface DigRecord {
  name: string;
  ttl: number;
  class: string;
  type: string;
  data: string;
}

export interface DigResult {
  /** NOERROR, NXDOMAIN, REFUSED, FORMERR, NOTIMP, BADVERS, … ; undefined if no reply was parsed. */
  status?: string;
  opcode?: string;
  id?: number;
  flags: string[];
  counts: { query: number; answer: number; authority: number; additional: number };
  opt?: { version: number; flags: string[]; udp: number; options: string[] };
  question: string[];
  answer: DigRecord[];
  authority: DigRecord[];
  additional: DigRecord[];
  /** Lines like ";; Truncated, retrying in TCP mode." */
  notes: string[];
  /** ";; SERVER: 127.0.0.1#5300(127.0.0.1) (TCP)" → "TCP" */
  transport?: string;
  msgSize?: number;
  raw: string;
}

function parseRecord(line: string): DigRecord | null {
  const m = /^(\S+)\s+(\d+)\s+(\S+)\s+(\S+)\s*(.*)$/.exec(line);
  if (!m) return null;
  return { name: m[1]!, ttl: Number(m[2]), class: m[3]!, type: m[4]!, data: m[5]! };
}

/** Parse one dig answer (the last one if dig printed several, e.g. after a TCP retry). */
export function parseDig(out: string): DigResult {
  const r: DigResult = {
    flags: [],
    counts: { query: 0, answer: 0, authority: 0, additional: 0 },
    question: [],
    answer: [],
    authority: [],
    additional: [],
    notes: [],
    raw: out,
  };
  let section: "question" | "answer" | "authority" | "additional" | "opt" | null = null;
  for (const line of out.split("\n")) {
    let m: RegExpExecArray | null;
    if ((m = /->>HEADER<<- opcode: (\S+), status: (\S+), id: (\d+)/.exec(line))) {
      // a new message (e.g. after ";; Truncated, retrying in TCP mode."): start over
      r.opcode = m[1]!.replace(/,$/, "");
      r.status = m[2]!.replace(/,$/, "");
      r.id = Number(m[3]);
      r.question = [];
      r.answer = [];
      r.authority = [];
      r.additional = [];
      delete r.opt;
      section = null;
      continue;
    }
    if ((m = /^;; flags:([^;]*); QUERY: (\d+), ANSWER: (\d+), AUTHORITY: (\d+), ADDITIONAL: (\d+)/.exec(line))) {
      r.flags = m[1]!.trim().split(/\s+/).filter(Boolean);
      r.counts = { query: Number(m[2]), answer: Number(m[3]), authority: Number(m[4]), additional: Number(m[5]) };
      continue;
    }
    if (/^;; OPT PSEUDOSECTION:/.test(line)) {
      section = "opt";
      r.opt = { version: 0, flags: [], udp: 0, options: [] };
      continue;
    }
    if (section === "opt" && (m = /^; EDNS: version: (\d+), flags:([^;]*); udp: (\d+)/.exec(line))) {
      r.opt!.version = Number(m[1]);
      r.opt!.flags = m[2]!.trim().split(/\s+/).filter(Boolean);
      r.opt!.udp = Number(m[3]);
      continue;
    }
    if (section === "opt" && /^; \S/.test(line)) {
      r.opt!.options.push(line.slice(2));
      continue;
    }
    if (/^;; QUESTION SECTION:/.test(line)) { section = "question"; continue; }
    if (/^;; ANSWER SECTION:/.test(line)) { section = "answer"; continue; }
    if (/^;; AUTHORITY SECTION:/.test(line)) { section = "authority"; continue; }
    if (/^;; ADDITIONAL SECTION:/.test(line)) { section = "additional"; continue; }
    if ((m = /^;; SERVER: .*\((\w+)\)\s*$/.exec(line))) { r.transport = m[1]; continue; }
    if ((m = /^;; MSG SIZE\s+rcvd: (\d+)/.exec(line))) { r.msgSize = Number(m[1]); continue; }
    if (/^;; (Truncated|WARNING|Warning|communications error|connection timed out|no servers)/i.test(line)) {
      r.notes.push(line.slice(3));
      continue;
    }
    if (line.trim() === "") { if (section !== "opt") section = null; continue; }
    if (section === "question") { r.question.push(line.replace(/^;/, "")); continue; }
    if (section === "answer" || section === "authority" || section === "additional") {
      if (line.startsWith(";")) continue;
      const rec = parseRecord(line);
      if (rec) r[section].push(rec);
    }
  }
  return r;
}

export async function digParsed(host: string, port: number, args: string[]): Promise<DigResult> {
  return parseDig(await digAt(host, port, args));
}
