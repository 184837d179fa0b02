// A name holding many RRset types (RFC 3597 unknown types included): every type is answered. The
// compiled lane marks RRsets written straight from the zone by a bit per type slot, in a 32-bit
// number; a slot past the 32nd must never read another slot's bit.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHadns, type HadnsHandle } from "./support/hadns.js";
import { buildQuery, normalise, sendUdp } from "./support/client.js";

const UNKNOWN = Array.from({ length: 40 }, (_, i) => 65280 + i);
const ZONE = `$ORIGIN many.test.
$TTL 300
@ SOA ns1 hostmaster 1 3600 600 86400 60
@ NS ns1
ns1 A 192.0.2.53
big MX 10 ns1
big A 192.0.2.2
big TXT "x"
${UNKNOWN.map((t) => `big TYPE${t} \\# 1 01`).join("\n")}
`;

let h: HadnsHandle;
beforeAll(async () => {
  h = await startHadns([{ text: ZONE, origin: "many.test." }]);
});
afterAll(async () => {
  await h.close();
});

describe("a name with 43 RRset types", () => {
  it.each([1, 15, 16, ...UNKNOWN])("type %i: NOERROR, AA, one record of that type", async (type) => {
    const res = await sendUdp(h.host, h.port, buildQuery({ id: 7, name: "big.many.test.", type, edns: true }));
    expect(res).not.toBeNull();
    const n = normalise(res!);
    expect({ rcode: n.rcode, aa: n.flags.aa, an: n.counts.an }).toEqual({ rcode: 0, aa: true, an: 1 });
    expect(res!.readUInt16BE(res!.indexOf(Buffer.from([0xc0, 0x0c]), 12) + 2)).toBe(type);
  });
});
