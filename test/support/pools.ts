// A failover pool spec as the config loader makes it (two endpoints, each probed on its own
// loopback address by check "web"), for tests that drive LivePools directly.

import type { PoolSpec } from "../../src/pool/types.js";

export function failoverSpec(name: string, primary: [string, string], secondary: [string, string], extra: Partial<PoolSpec> = {}): PoolSpec {
  return {
    name,
    type: "A",
    ttl: 60,
    degradedTtl: 10,
    policy: "failover",
    check: "web",
    whenAllDown: "serve-all",
    endpoints: [
      { address: primary[0], checkAddress: primary[1] },
      { address: secondary[0], checkAddress: secondary[1] },
    ],
    ...extra,
  };
}
