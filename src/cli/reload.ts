// `hadns reload`: POST /v1/reload — the server reads its config and zones again, checks them as
// `hadns check` does and swaps them in at once. Exit 0 when it took; 1 with every error when it
// was rejected (the previous config keeps serving).

import type { ReloadResult } from "../server/runtime.js";
import { adminVerb, printJson, type AdminFlags } from "./admin-client.js";

export function reload(flags: AdminFlags): Promise<number> {
  return adminVerb(flags, async (client) => {
    const { status, body } = await client.call<ReloadResult & { error?: string }>("POST", "/v1/reload", undefined, [422]);
    if (flags.json) printJson(body);
    if (status === 200 && body.ok) {
      if (!flags.json) process.stdout.write(`reloaded config and zones in ${body.ms} ms\n`);
      return 0;
    }
    if (!flags.json) {
      process.stderr.write(`hadns: ${body.error ?? "reload rejected; still serving the previous config"}\n`);
      for (const e of body.errors) process.stderr.write(`${e}\n`);
    }
    return 1;
  });
}
