// Interop: the real `dig` (Debian's bind9-dnsutils) against hadns over UDP and TCP, asserting on dig's own
// parsed output — status, flags, EDNS pseudosection and sections — for the answer rules of issue 2
// (RFC 1034 §4.3.2, RFC 2308, RFC 6891, RFC 7766). INTEROP_TARGET=knot runs the same assertions against
// Knot DNS instead, which shows they describe standard behaviour and not just ours.

import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { digAt, digParsed, parseDig, type DigRecord, type DigResult } from "./support/dig.js";
import { startKnot } from "./support/knot.js";

const FIX = fileURLToPath(new URL("./fixtures/diff/", import.meta.url));
const ZONES = [
  { domain: "diff.test", file: `${FIX}diff.test.zone` },
  { domain: "child.diff.test", file: `${FIX}child.diff.test.zone` },
  { domain: "other.test", file: `${FIX}other.test.zone` },
];
const TARGET = process.env.INTEROP_TARGET ?? "hadns";

function haveDig(): boolean {
  try {
    execFileSync("dig", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
if (!haveDig() && process.env.HADNS_SKIP_DIG !== "1") {
  throw new Error("dig not found (apt-get install bind9-dnsutils, or set HADNS_SKIP_DIG=1 to skip the interop test)");
}

interface Target {
  host: string;
  port: number;
  close(): Promise<void>;
}

async function start(host = "127.0.0.1"): Promise<Target> {
  if (TARGET === "knot") return startKnot(ZONES, { host, extraServerConf: 'identity: ""\nversion: ""\nnsid: ""' });
  const { startHadns } = await import("./support/hadns.js");
  return startHadns(ZONES.map((z) => ({ file: z.file })), { host });
}

const data = (rs: DigRecord[]) => rs.map((r) => r.data).sort();
const rrs = (rs: DigRecord[]) => rs.map((r) => `${r.name.toLowerCase()} ${r.ttl} ${r.class} ${r.type} ${r.data}`).sort();
const SOA = "ns1.diff.test. hostmaster.diff.test. 2024010101 7200 3600 1209600 300";

describe.skipIf(!haveDig())(`dig against ${TARGET}`, () => {
  let t: Target;
  const q = (...args: string[]): Promise<DigResult> => digParsed(t.host, t.port, args);
  beforeAll(async () => {
    t = await start();
  }, 30_000);
  afterAll(async () => {
    await t?.close();
  });

  describe.each(["udp", "tcp"] as const)("over %s", (transport) => {
    const tq = (...args: string[]) => q(...args, ...(transport === "tcp" ? ["+tcp"] : []));
    const proto = transport.toUpperCase();

    it("A with +norec: authoritative, no RD, no RA, EDNS echoed", async () => {
      const r = await tq("www.diff.test", "A", "+norec");
      expect(r.status).toBe("NOERROR");
      expect(r.flags).toEqual(["qr", "aa"]);
      expect(r.transport).toBe(proto);
      expect(r.opt).toEqual({ version: 0, flags: [], udp: 1232, options: [] });
      expect(rrs(r.answer)).toEqual(["www.diff.test. 3600 IN A 192.0.2.80", "www.diff.test. 3600 IN A 192.0.2.81"]);
      expect(r.authority).toEqual([]);
      expect(r.additional).toEqual([]);
    });

    it("A with +rec: RD copied, RA never set", async () => {
      const r = await tq("www.diff.test", "A", "+rec");
      expect(r.flags).toEqual(["qr", "aa", "rd"]);
      expect(r.notes).toContain("WARNING: recursion requested but not available");
    });

    it("AAAA", async () => {
      const r = await tq("www.diff.test", "AAAA");
      expect(r.status).toBe("NOERROR");
      expect(rrs(r.answer)).toEqual(["www.diff.test. 3600 IN AAAA 2001:db8::80"]);
    });

    it("MX with the exchange's A and AAAA in additional", async () => {
      const r = await tq("diff.test", "MX");
      expect(data(r.answer)).toEqual(["10 mail.diff.test.", "20 mail.elsewhere.example."]);
      expect(rrs(r.additional)).toEqual(["mail.diff.test. 3600 IN A 192.0.2.25", "mail.diff.test. 3600 IN AAAA 2001:db8::25"]);
      expect(r.authority).toEqual([]);
    });

    it("TXT with several strings, quotes, backslash and binary bytes", async () => {
      const r = await tq("txt.diff.test", "TXT");
      expect(data(r.answer)).toEqual([String.raw`"hello" "world" "with \"quotes\" and \\ backslash" "\000\255binary"`]);
    });

    it("TXT longer than 255 bytes comes back as 255-byte strings", async () => {
      const r = await tq("txtlong.diff.test", "TXT");
      expect(data(r.answer)).toEqual([`"${"x".repeat(255)}" "${"x".repeat(45)}"`]);
    });

    it("SRV with the target's address in additional", async () => {
      const r = await tq("_sip._tcp.diff.test", "SRV");
      expect(data(r.answer)).toEqual(["10 60 5060 sip.diff.test.", "20 0 5060 sip.elsewhere.example."]);
      expect(rrs(r.additional)).toEqual(["sip.diff.test. 3600 IN A 192.0.2.50"]);
    });

    it("CAA, including the critical flag", async () => {
      const r = await tq("caa.diff.test", "CAA");
      expect(data(r.answer)).toEqual(['0 iodef "mailto:sec@diff.test"', '128 issue "ca.example.net; account=1"']);
    });

    it("NS at the apex with the name servers' addresses", async () => {
      const r = await tq("diff.test", "NS");
      expect(r.flags).toContain("aa");
      expect(data(r.answer)).toEqual(["ns1.diff.test.", "ns2.diff.test."]);
      expect(rrs(r.additional)).toEqual([
        "ns1.diff.test. 3600 IN A 192.0.2.1",
        "ns1.diff.test. 3600 IN AAAA 2001:db8::1",
        "ns2.diff.test. 3600 IN A 192.0.2.2",
      ]);
    });

    it("SOA", async () => {
      const r = await tq("diff.test", "SOA");
      expect(rrs(r.answer)).toEqual([`diff.test. 3600 IN SOA ${SOA}`]);
      expect(r.additional).toEqual([]);
    });

    it("NXDOMAIN with the SOA, TTL = min(SOA TTL, MINIMUM)", async () => {
      const r = await tq("nothere.diff.test", "A");
      expect(r.status).toBe("NXDOMAIN");
      expect(r.flags).toContain("aa");
      expect(r.answer).toEqual([]);
      expect(rrs(r.authority)).toEqual([`diff.test. 300 IN SOA ${SOA}`]);
    });

    it("NODATA and an empty non-terminal: NOERROR with the SOA", async () => {
      for (const name of ["www.diff.test", "c.ent.diff.test"]) {
        const r = await tq(name, "TXT");
        expect(r.status).toBe("NOERROR");
        expect(r.answer).toEqual([]);
        expect(rrs(r.authority)).toEqual([`diff.test. 300 IN SOA ${SOA}`]);
      }
    });

    it("referral: no AA, NS in authority, glue in additional", async () => {
      const r = await tq("host.sub.diff.test", "A", "+norec");
      expect(r.status).toBe("NOERROR");
      expect(r.flags).toEqual(["qr"]);
      expect(r.answer).toEqual([]);
      expect(rrs(r.authority)).toEqual(["sub.diff.test. 3600 IN NS ns.elsewhere.example.", "sub.diff.test. 3600 IN NS ns1.sub.diff.test."]);
      expect(rrs(r.additional)).toEqual(["ns1.sub.diff.test. 3600 IN A 192.0.2.53", "ns1.sub.diff.test. 3600 IN AAAA 2001:db8::53"]);
    });

    it("DS at a delegation is answered by the parent, authoritatively", async () => {
      const r = await tq("sub.diff.test", "DS");
      expect(r.flags).toContain("aa");
      expect(r.answer.map((a) => a.type)).toEqual(["DS"]);
    });

    it("CNAME chain followed within the zone", async () => {
      const r = await tq("chain1.diff.test", "A");
      expect(rrs(r.answer)).toEqual([
        "chain1.diff.test. 3600 IN CNAME chain2.diff.test.",
        "chain2.diff.test. 3600 IN CNAME chain3.diff.test.",
        "chain3.diff.test. 3600 IN CNAME www.diff.test.",
        "www.diff.test. 3600 IN A 192.0.2.80",
        "www.diff.test. 3600 IN A 192.0.2.81",
      ]);
      expect(r.answer[0]!.type).toBe("CNAME"); // the chain comes first, in order
    });

    it("wildcard synthesized with the query name as owner", async () => {
      const r = await tq("anything.wild.diff.test", "A");
      expect(rrs(r.answer)).toEqual(["anything.wild.diff.test. 3600 IN A 192.0.2.100"]);
    });

    it("DNAME and the synthesized CNAME", async () => {
      const r = await tq("www.dname.diff.test", "A");
      expect(rrs(r.answer)).toEqual([
        "dname.diff.test. 3600 IN DNAME target.diff.test.",
        "www.dname.diff.test. 3600 IN CNAME www.target.diff.test.",
        "www.target.diff.test. 3600 IN A 192.0.2.110",
      ]);
    });

    it("+dnssec: the DO bit comes back", async () => {
      const r = await tq("www.diff.test", "A", "+dnssec");
      expect(r.opt?.flags).toEqual(["do"]);
      expect(r.status).toBe("NOERROR");
    });

    it("0x20 mixed case: the question comes back as sent", async () => {
      const r = await tq("WwW.DiFf.TeSt", "A");
      expect(r.question[0]).toMatch(/^WwW\.DiFf\.TeSt\.\s+IN\s+A$/);
      expect(r.raw).not.toMatch(/mismatch/i);
      expect(r.answer.length).toBe(2);
    });

    it("+noedns: no OPT in the reply", async () => {
      const r = await tq("www.diff.test", "A", "+noedns");
      expect(r.opt).toBeUndefined();
      expect(r.counts.additional).toBe(0);
      expect(r.answer.length).toBe(2);
    });

    it("+edns=1 +noednsneg: BADVERS with an OPT of version 0, no records", async () => {
      const r = await tq("www.diff.test", "A", "+edns=1", "+noednsneg");
      expect(r.status).toBe("BADVERS");
      expect(r.opt?.version).toBe(0);
      expect(r.flags).not.toContain("aa");
      expect(r.counts).toEqual({ query: 1, answer: 0, authority: 0, additional: 1 });
    });

    it("names outside our zones: REFUSED without AA", async () => {
      const r = await tq("www.example.com", "A");
      expect(r.status).toBe("REFUSED");
      expect(r.flags).not.toContain("aa");
    });

    it("ANY: one RRset, not the whole node (RFC 8482)", async () => {
      const r = await tq("multi.diff.test", "ANY");
      expect(r.status).toBe("NOERROR");
      expect(new Set(r.answer.map((a) => a.type)).size).toBe(1);
    });

    it("CH version.bind is REFUSED unless configured", async () => {
      const r = await tq("version.bind", "TXT", "CH");
      expect(r.status).toBe("REFUSED");
    });

    it("+header-only (QDCOUNT=0): FORMERR", async () => {
      const r = await tq("+header-only");
      expect(r.status).toBe("FORMERR");
    });

    it("+opcode=status: NOTIMP", async () => {
      const r = await tq("www.diff.test", "+opcode=status");
      expect(r.opcode).toBe("STATUS");
      expect(r.status).toBe("NOTIMP");
    });
  });

  it("+bufsize=512 on an answer that does not fit: TC, then dig retries over TCP and gets it all", async () => {
    const r = await q("huge.diff.test", "AAAA", "+bufsize=512");
    expect(r.raw).toContain(";; Truncated, retrying in TCP mode.");
    expect(r.transport).toBe("TCP");
    expect(r.status).toBe("NOERROR");
    expect(r.answer.length).toBe(80);
  });

  it("+bufsize=512 +ignore: the truncated UDP reply has TC, AA and the OPT, and no partial RRset", async () => {
    const r = await q("huge.diff.test", "AAAA", "+bufsize=512", "+ignore");
    expect(r.flags).toEqual(expect.arrayContaining(["qr", "aa", "tc"]));
    expect(r.opt?.udp).toBe(1232);
    expect(r.counts.answer).toBe(0);
  });

  it("+noedns on a 671-byte answer: TC over UDP, complete over TCP", async () => {
    const udp = await q("big.diff.test", "A", "+noedns", "+ignore");
    expect(udp.flags).toContain("tc");
    expect(udp.counts.answer).toBe(0);
    const r = await q("big.diff.test", "A", "+noedns");
    expect(r.transport).toBe("TCP");
    expect(r.answer.length).toBe(40);
  });

  it("+edns=1 with dig's EDNS negotiation: BADVERS, then a version 0 retry that succeeds", async () => {
    const out = await digAt(t.host, t.port, ["www.diff.test", "A", "+edns=1"]);
    expect(out).toContain("BADVERS, retrying with EDNS version 0.");
    const r = parseDig(out);
    expect(r.status).toBe("NOERROR");
    expect(r.answer.length).toBe(2);
  });

  it("AXFR is refused: dig reports the transfer failed", async () => {
    const out = await digAt(t.host, t.port, ["diff.test", "AXFR"]);
    expect(out).toContain("Transfer failed.");
  });

  it("several queries on one TCP connection (+keepopen)", async () => {
    const out = await digAt(t.host, t.port, ["+tcp", "+keepopen", "www.diff.test", "A", "mail.diff.test", "A", "ns1.diff.test", "AAAA"]);
    const answers = out.split("->>HEADER<<-").slice(1).map((s) => parseDig(";; ->>HEADER<<-" + s));
    expect(answers.map((a) => a.status)).toEqual(["NOERROR", "NOERROR", "NOERROR"]);
    expect(answers.map((a) => a.answer[0]?.data)).toEqual([expect.stringMatching(/^192\.0\.2\.8[01]$/), "192.0.2.25", "2001:db8::1"]);
  });
});

describe.skipIf(!haveDig())(`dig against ${TARGET} on IPv6 loopback`, () => {
  let t: Target | null = null;
  beforeAll(async () => {
    try {
      t = await start("::1");
    } catch (e) {
      if (process.env.HADNS_REQUIRE_IPV6 === "1") throw e;
      t = null; // no ::1 on this machine
    }
  }, 30_000);
  afterAll(async () => {
    await t?.close();
  });
  it.each(["+notcp", "+tcp"])("A over ::1 with %s", async (mode) => {
    if (!t) return;
    const r = await digParsed("::1", t.port, ["www.diff.test", "A", mode]);
    expect(r.status).toBe("NOERROR");
    expect(r.answer.length).toBe(2);
  });
});
