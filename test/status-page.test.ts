// The status page in a real browser (issue 4): Debian's chromium driven by playwright-core, against
// hadns in-process with two real HTTP endpoints on 127.0.0.44/45 and a token on the admin API. The
// page asks for the token once and keeps it for the tab; it shows the pool, its endpoints in state
// colours and its answer; when the primary endpoint stops answering, the page — refreshing itself —
// shows it down and red, the pool answering the other endpoint, and the transition with its reason;
// an override shows with its expiry. No script errors and no CSP violations on the way.
// Skips, saying so, only where /usr/bin/chromium is missing; in CI (which installs it) it fails instead.

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEndpoints } from "./support/http-endpoints.js";
import { call, startWithAdmin, type AdminHarness } from "./support/admin.js";

const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  if (process.env.CI) throw new Error(`${CHROMIUM} is missing in CI: .ci/run installs Debian's chromium for this test`);
  console.warn(`status-page.test.ts: SKIPPED — ${CHROMIUM} is not installed (apt-get install -y chromium)`);
}

const ZONE = `$ORIGIN example.test.
$TTL 300
@        3600 SOA   ns1 hostmaster 1 3600 900 604800 120
@        3600 NS    ns1
ns1           A     192.0.2.53
`;
const TOKEN = "page-token-0123456789abcdef";
const POOL = '[data-pool="app.example.test. A"]';
const ep = (addr: string) => `${POOL} tr[data-endpoint="${addr}"]`;

let eps: Awaited<ReturnType<typeof startEndpoints>>;
let h: AdminHarness;
let ctx: BrowserContext;
let page: Page;
let profile: string;
const problems: string[] = [];

describe.skipIf(!HAVE_CHROMIUM)("status page in chromium", () => {
  beforeAll(async () => {
    eps = await startEndpoints(2, undefined, { firstAddress: 44 });
    h = await startWithAdmin({
      files: { "example.test.zone": ZONE },
      config: `zones: [example.test.zone]
checks:
  web: { type: http, port: ${eps.port}, path: /health, interval: 500ms, timeout: 400ms, fast_interval: 50ms, fall: 3, rise: 2, flap_window: 0 }
pools:
  - { name: app.example.test., type: A, ttl: 30, degraded_ttl: 5, check: web, endpoints: [127.0.0.44, 127.0.0.45] }
`,
      admin: { token: TOKEN },
    });
    await h.allUp();
    profile = mkdtempSync(join(tmpdir(), "hadns-chromium-"));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      viewport: { width: 1200, height: 900 },
    });
    page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on("console", (m) => {
      // The 401 before the token is entered is expected; anything else is a problem.
      if (m.type() === "error" && !/status of 401/.test(m.text())) problems.push(`console: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  }, 60_000);

  afterAll(async () => {
    await ctx?.close();
    await h?.close();
    await eps?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it("asks for the token once, then shows the pool, its endpoints in colour and its answer", async () => {
    await page.goto(h.url + "/");
    await page.locator("#login").waitFor({ state: "visible" });
    expect(await page.locator("#main").isVisible()).toBe(false);
    await page.fill("#token", "wrong-token");
    await page.click("#login button");
    await expect.poll(() => page.locator("#login-error").textContent()).toBe("That token was not accepted.");

    await page.fill("#token", TOKEN);
    await page.click("#login button");
    await page.locator(POOL).waitFor();
    expect(await page.locator("#login").isVisible()).toBe(false);
    expect(await page.locator(`${POOL} [data-answer]`).textContent()).toBe("127.0.0.44");
    expect(await page.locator(`${POOL} h3`).textContent()).toMatch(/^app\.example\.test\. A failover · ttl 30$/);
    for (const a of ["127.0.0.44", "127.0.0.45"]) {
      expect(await page.locator(ep(a)).getAttribute("data-state")).toBe("up");
      expect(await page.locator(`${ep(a)} .state`).evaluate((e) => getComputedStyle(e).backgroundColor)).toBe("rgb(26, 127, 55)");
    }
    expect(await page.locator(`${ep("127.0.0.44")} td`).nth(5).textContent()).toMatch(/^ok: HTTP 200 · \d+ ms · \d+s ago$/);
    expect(await page.locator("#zones").textContent()).toContain("example.test.");

    // The token is kept for this tab: a reload does not ask again.
    await page.reload();
    await page.locator(POOL).waitFor();
    expect(await page.locator("#login").isVisible()).toBe(false);
  });

  it("a failover shows up by itself: the endpoint turns down and red, the answer changes, the transition is listed with its reason", async () => {
    await eps.endpoints[0]!.set("refuse");
    try {
      await page.locator(`${ep("127.0.0.44")}[data-state="down"]`).waitFor({ timeout: 15_000 });
      expect(await page.locator(`${ep("127.0.0.44")} .state`).evaluate((e) => getComputedStyle(e).backgroundColor)).toBe("rgb(207, 34, 46)");
      expect(await page.locator(`${ep("127.0.0.44")} .state`).textContent()).toBe("down");
      await expect.poll(() => page.locator(`${POOL} [data-answer]`).textContent()).toBe("127.0.0.45");
      expect(await page.locator(`${POOL} .answer`).textContent()).toMatch(/failover to/);
      expect(await page.locator(POOL).getAttribute("class")).toBe("pool degraded");
      const row = page.locator('#transitions tr[data-transition="127.0.0.44"][data-to="down"]');
      await row.waitFor();
      expect(await page.locator('#transitions tr[data-transition="127.0.0.44"]').first().getAttribute("data-to")).toBe("down");
      expect(await row.textContent()).toMatch(/127\.0\.0\.44 webup → down.*(refused|ECONNREFUSED).*app\.example\.test\. A/);
      await page.screenshot({ path: join(tmpdir(), "hadns-status-page-failover.png"), fullPage: true });
    } finally {
      await eps.endpoints[0]!.set("ok");
    }
    await page.locator(`${ep("127.0.0.44")}[data-state="up"]`).waitFor({ timeout: 15_000 });
    await expect.poll(() => page.locator(`${POOL} [data-answer]`).textContent()).toBe("127.0.0.44");
    // Newest first: the recovery, above the failure (and the first probe's unknown → up below both).
    const newest = page.locator('#transitions tr[data-transition="127.0.0.44"]').first();
    await expect.poll(() => newest.textContent()).toMatch(/127\.0\.0\.44 webdown → up/);
  });

  it("an override shows on the endpoint and in the overrides list, with its expiry", async () => {
    const set = await call(h.url, "POST", "/v1/overrides", { token: TOKEN, body: { pool: "app.example.test.", address: "127.0.0.45", action: "drain", reason: "disk swap", for: "30m" } });
    expect(set.status).toBe(201);
    try {
      await page.locator(`${ep("127.0.0.45")}[data-state="drain"]`).waitFor({ timeout: 10_000 });
      expect(await page.locator(`${ep("127.0.0.45")} .state`).evaluate((e) => getComputedStyle(e).backgroundColor)).toBe("rgb(191, 135, 0)");
      expect(await page.locator(`${ep("127.0.0.45")} td`).nth(6).textContent()).toMatch(/^drain: disk swap \(ends in (30m 0s|29m \d+s)\)$/);
      const row = page.locator(`#overrides tr[data-override="${set.json.id}"]`);
      expect(await row.textContent()).toMatch(/^drainapp\.example\.test\.127\.0\.0\.45disk swapin (30m 0s|29m \d+s)/);
      await page.screenshot({ path: join(tmpdir(), "hadns-status-page-override.png"), fullPage: true });
    } finally {
      await call(h.url, "DELETE", `/v1/overrides/${set.json.id}`, { token: TOKEN });
    }
    await page.locator(`${ep("127.0.0.45")}[data-state="up"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator("#overrides").textContent()).toBe("None.");
  });

  it("ran without script errors or CSP violations", () => {
    expect(problems).toEqual([]);
  });
});
