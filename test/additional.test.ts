// Additional-section processing (RFC 1034 §4.3.2 step 6, RFC 1035 §3.3.9/§3.3.11, RFC 2782): the A
// and AAAA of the targets of MX, SRV and NS records in the answer, when the target is in the same
// zone; nothing for out-of-zone targets or for the names inside CNAME, PTR and SOA records.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type QueryOptions, type Transport } from "./support/client.js";
import { askLines } from "./support/ask.js";
import { startHadns, type HadnsHandle } from "./support/hadns.js";

const EXAMPLE = `$ORIGIN example.test.
$TTL 300
@          3600 SOA   ns1 hostmaster 1 3600 900 604800 120
@          3600 NS    ns1
@          3600 NS    ns2
@               MX    10 mail
@               MX    20 mail6
@               MX    30 www.other.test.
ns1             A     192.0.2.53
ns1             AAAA  2001:db8::53
ns2             A     192.0.2.54
mail            A     192.0.2.25
mail            AAAA  2001:db8::25
mail            TXT   "not an address: never additional"
mail6      600  AAAA  2001:db8::26
twice           MX    10 mail
twice           MX    20 mail
_sip._tcp       SRV   10 60 5060 sip
_sip._tcp       SRV   20 60 5060 gone
sip             A     192.0.2.60
tocname         MX    10 alias
alias           CNAME mail
toglue          MX    10 ns.sub
sub             NS    ns.sub
ns.sub          A     192.0.2.70
toent           MX    10 ent
x.ent           A     192.0.2.9
nullmx          MX    0 .
ptr             PTR   mail
*.wild          A     192.0.2.8
towild          MX    10 host.wild
`;

// A zone we also serve: targets in it are still out of the answering zone.
const OTHER = `$ORIGIN other.test.
$TTL 300
@    SOA ns1 hostmaster 1 3600 900 604800 60
@    NS  ns1
ns1  A   192.0.2.99
www  A   203.0.113.25
`;

const TRANSPORTS: Transport[] = ["udp", "tcp"];

let srv: HadnsHandle;
beforeAll(async () => {
  srv = await startHadns([
    { origin: "example.test.", text: EXAMPLE },
    { origin: "other.test.", text: OTHER },
  ]);
});
afterAll(() => srv.close());

/** Send a query; check ID and question came back as sent; the reply as lines (test/support/ask.ts). */
const ask = (via: Transport, q: QueryOptions): Promise<string[]> => askLines(srv, via, q);

describe.each(TRANSPORTS)("over %s", (via) => {
  it("MX: A and AAAA of each target in the zone, nothing for a target in another zone", async () => {
    expect(await ask(via, { name: "example.test", type: "MX" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=3 ns=0 ar=3",
      'AN example.test. 300 IN MX {"preference":10,"exchange":"mail.example.test"} | {"preference":20,"exchange":"mail6.example.test"} | {"preference":30,"exchange":"www.other.test"}',
      'AR mail.example.test. 300 IN A "192.0.2.25"',
      'AR mail.example.test. 300 IN AAAA "2001:db8::25"',
      'AR mail6.example.test. 600 IN AAAA "2001:db8::26"',
    ]);
  });

  it("a target named twice gets its addresses once (Knot DNS repeats them; RFC 2181 §5 wants no duplicates)", async () => {
    expect(await ask(via, { name: "twice.example.test", type: "MX" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=0 ar=2",
      'AN twice.example.test. 300 IN MX {"preference":10,"exchange":"mail.example.test"} | {"preference":20,"exchange":"mail.example.test"}',
      'AR mail.example.test. 300 IN A "192.0.2.25"',
      'AR mail.example.test. 300 IN AAAA "2001:db8::25"',
    ]);
  });

  it("NS at the apex: the name servers' addresses", async () => {
    expect(await ask(via, { name: "example.test", type: "NS" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=0 ar=3",
      'AN example.test. 3600 IN NS "ns1.example.test" | "ns2.example.test"',
      'AR ns1.example.test. 300 IN A "192.0.2.53"',
      'AR ns1.example.test. 300 IN AAAA "2001:db8::53"',
      'AR ns2.example.test. 300 IN A "192.0.2.54"',
    ]);
  });

  it("SRV: the target's address; a target that does not exist adds nothing", async () => {
    expect(await ask(via, { name: "_sip._tcp.example.test", type: "SRV" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=2 ns=0 ar=1",
      'AN _sip._tcp.example.test. 300 IN SRV {"priority":10,"weight":60,"port":5060,"target":"sip.example.test"} | {"priority":20,"weight":60,"port":5060,"target":"gone.example.test"}',
      'AR sip.example.test. 300 IN A "192.0.2.60"',
    ]);
  });

  it("a target that is glue below a cut gets the glue", async () => {
    expect(await ask(via, { name: "toglue.example.test", type: "MX" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=1",
      'AN toglue.example.test. 300 IN MX {"preference":10,"exchange":"ns.sub.example.test"}',
      'AR ns.sub.example.test. 300 IN A "192.0.2.70"',
    ]);
  });

  it("a target that is a CNAME, an empty non-terminal, or the root (null MX) adds nothing", async () => {
    expect(await ask(via, { name: "tocname.example.test", type: "MX" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN tocname.example.test. 300 IN MX {"preference":10,"exchange":"alias.example.test"}',
    ]);
    expect(await ask(via, { name: "toent.example.test", type: "MX" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN toent.example.test. 300 IN MX {"preference":10,"exchange":"ent.example.test"}',
    ]);
    expect(await ask(via, { name: "nullmx.example.test", type: "MX" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN nullmx.example.test. 300 IN MX {"preference":0,"exchange":"."}',
    ]);
  });

  it("names inside PTR, CNAME and SOA records get no additional section", async () => {
    expect(await ask(via, { name: "ptr.example.test", type: "PTR" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN ptr.example.test. 300 IN PTR "mail.example.test"',
    ]);
    expect(await ask(via, { name: "alias.example.test", type: "CNAME" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN alias.example.test. 300 IN CNAME "mail.example.test"',
    ]);
    expect(await ask(via, { name: "example.test", type: "SOA" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=0",
      'AN example.test. 3600 IN SOA {"mname":"ns1.example.test","rname":"hostmaster.example.test","serial":1,"refresh":3600,"retry":900,"expire":604800,"minimum":120}',
    ]);
  });

  // Regression test (was a server bug): Knot DNS 3.2 looks additional targets up like any name, wildcards included,
  // and adds `host.wild.example.test. A 192.0.2.8`; hadns only takes names that exist exactly
  // (addAdditional in src/answer/lookup.ts).
  it("a target matched by a wildcard gets the synthesized address, as in Knot DNS", async () => {
    expect(await ask(via, { name: "towild.example.test", type: "MX" })).toEqual([
      "rcode=0 opcode=0 flags=[qr aa] qd=1 an=1 ns=0 ar=1",
      'AN towild.example.test. 300 IN MX {"preference":10,"exchange":"host.wild.example.test"}',
      'AR host.wild.example.test. 300 IN A "192.0.2.8"',
    ]);
  });
});
