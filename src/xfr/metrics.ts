// Zone transfers as Prometheus families for /metrics (src/ops/metrics.ts writes them): per transferred
// zone its serial and the transfers served; per secondary the serial of the last NOTIFY sent and
// acknowledged, and when. Read from xfrStatus() at scrape time; nothing is counted here.

import type { Runtime } from "../server/runtime.js";
import { xfrStatus } from "./start.js";

export interface XfrFamily {
  name: string;
  help: string;
  samples: Array<[Record<string, string>, number]>;
}

export function xfrMetricFamilies(rt: Runtime): XfrFamily[] {
  const zones = xfrStatus(rt);
  if (zones.length === 0) return [];
  const kinds = (t: (typeof zones)[number]["transfers"]) =>
    [
      ["axfr", t.axfr],
      ["ixfr", t.ixfr],
      ["ixfr_full", t.ixfrFull],
      ["ixfr_current", t.ixfrUpToDate],
      ["ixfr_udp_soa", t.ixfrUdpSoaOnly],
    ] as const;
  const secondaries = zones.flatMap((z) => z.secondaries.map((s) => ({ zone: z.zone, s })));
  return [
    { name: "hadns_xfr_serial", help: "Serial of each zone as hadns transfers it (a new one on every change of the rendered zone).", samples: zones.map((z) => [{ zone: z.zone }, z.serial]) },
    { name: "hadns_xfr_changes_total", help: "New serials made since start, by zone (pool flips and reloads that changed the rendered zone).", samples: zones.map((z) => [{ zone: z.zone }, z.changes]) },
    {
      name: "hadns_xfr_transfers_total",
      help: "Transfers served, by zone and kind: axfr; ixfr (differences); ixfr_full (the whole zone: serial unknown or too old); ixfr_current (already up to date); ixfr_udp_soa (over UDP, the SOA alone).",
      samples: zones.flatMap((z) => kinds(z.transfers).map(([kind, v]): [Record<string, string>, number] => [{ zone: z.zone, kind }, v])),
    },
    {
      name: "hadns_xfr_refused_total",
      help: "Transfer requests refused, by zone (address not allowed, missing or wrong TSIG); every one is logged with the client and the reason.",
      samples: zones.map((z) => [{ zone: z.zone }, z.transfers.refused]),
    },
    {
      name: "hadns_xfr_notify_sent_serial",
      help: "Serial of the last NOTIFY sent to each secondary.",
      samples: secondaries.filter((x) => x.s.serial !== null).map((x) => [{ zone: x.zone, secondary: x.s.target }, x.s.serial!]),
    },
    {
      name: "hadns_xfr_notify_acked_serial",
      help: "Serial of the last NOTIFY each secondary acknowledged; below hadns_xfr_notify_sent_serial while one is pending or failed.",
      samples: secondaries.filter((x) => x.s.ackedSerial !== null).map((x) => [{ zone: x.zone, secondary: x.s.target }, x.s.ackedSerial!]),
    },
    {
      name: "hadns_xfr_notify_acked_timestamp_seconds",
      help: "When each secondary last acknowledged a NOTIFY (Unix time).",
      samples: secondaries.filter((x) => x.s.ackedAt !== null).map((x) => [{ zone: x.zone, secondary: x.s.target }, x.s.ackedAt! / 1000]),
    },
    {
      name: "hadns_xfr_notify_failed_total",
      help: "NOTIFYs given up on (no answer after every resend, or refused by the secondary), by zone and secondary.",
      samples: secondaries.map((x) => [{ zone: x.zone, secondary: x.s.target }, x.s.failed]),
    },
  ];
}
