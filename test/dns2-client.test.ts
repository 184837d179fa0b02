// dns2 3.1.1 as an independent client and decoder: its own query builder, UDP and TCP clients and
// packet parser (a codebase that shares nothing with ours) must read hadns's answers as we meant
// them. dns2 is a devDependency only, never on the query path (README, "What dns2 is used for").

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import DNS from "dns2";
import { startHadns, type HadnsHandle } from "./support/hadns.js";

const ZONE = `$ORIGIN example.test.
$TTL 300
@      SOA ns1 hostmaster 2026112501 7200 900 1209600 60
@      NS  ns1
@      MX  10 mail
ns1    A   192.0.2.1
mail   A   192.0.2.25
mail   AAAA 2001:db8::25
www    CNAME web
web    A   192.0.2.80
web    A   192.0.2.81
txt    TXT "hello" "world"
_sip._tcp SRV 10 60 5060 sip
sip    A   192.0.2.50
`;

type Resolve = (name: string, type?: string) => Promise<{
  header: { aa: number; rcode: number; qr: number };
  questions: Array<{ name: string }>;
  answers: Array<Record<string, unknown>>;
  additionals: Array<Record<string, unknown>>;
  authorities: Array<Record<string, unknown>>;
}>;

let h: HadnsHandle;
let udp: Resolve;
let tcp: Resolve;

beforeAll(async () => {
  h = await startHadns([{ text: ZONE, origin: "example.test." }]);
  // dns2's typings describe the resolvers loosely; the shape used here is the documented one.
  udp = DNS.UDPClient({ dns: "127.0.0.1", port: h.port, timeout: 2000, retryOverTCP: false } as never) as unknown as Resolve;
  tcp = DNS.TCPClient({ dns: "127.0.0.1", port: h.port } as never) as unknown as Resolve;
});

afterAll(async () => {
  await h?.close();
});

describe.each([
  ["udp", () => udp],
  ["tcp", () => tcp],
] as const)("dns2 %s client", (_t, client) => {
  it("A through a CNAME chain: both records, AA, NOERROR", async () => {
    const r = await client()("www.example.test", "A");
    expect(r.header).toMatchObject({ qr: 1, aa: 1, rcode: 0 });
    expect(r.answers.map((a) => [a.name, a.type, a.ttl, a.domain ?? a.address])).toEqual([
      ["www.example.test", 5, 300, "web.example.test"],
      ["web.example.test", 1, 300, "192.0.2.80"],
      ["web.example.test", 1, 300, "192.0.2.81"],
    ]);
  });

  it("MX with the exchange's addresses in additional", async () => {
    const r = await client()("example.test", "MX");
    expect(r.answers.map((a) => [a.priority, a.exchange])).toEqual([[10, "mail.example.test"]]);
    expect(r.additionals.map((a) => [a.name, a.type, a.address]).filter((a) => a[1] !== 41)).toEqual([
      ["mail.example.test", 1, "192.0.2.25"],
      ["mail.example.test", 28, "2001:db8::25"],
    ]);
  });

  it("TXT keeps its strings, SRV its fields", async () => {
    const t = await client()("txt.example.test", "TXT");
    expect(t.answers[0]!.data).toEqual(["hello", "world"]);
    const s = await client()("_sip._tcp.example.test", "SRV");
    expect(s.answers.map((a) => [a.priority, a.weight, a.port, a.target])).toEqual([[10, 60, 5060, "sip.example.test"]]);
  });

  it("NXDOMAIN with the SOA in authority, TTL min(SOA TTL, MINIMUM)", async () => {
    const r = await client()("nothere.example.test", "A");
    expect(r.header.rcode).toBe(3);
    expect(r.authorities.map((a) => [a.name, a.type, a.ttl, a.primary, a.minimum])).toEqual([["example.test", 6, 60, "ns1.example.test", 60]]);
  });

  it("REFUSED outside our zones", async () => {
    const r = await client()("www.example.com", "A");
    expect(r.header).toMatchObject({ aa: 0, rcode: 5 });
  });
});
