// What a webhook sends: one notice (an endpoint transition, a pool's answer changing, fail-open
// starting or ending, a reload, an override) in one of three shapes: a generic JSON document, a
// Slack-compatible incoming webhook message (text plus one coloured attachment), and a PagerDuty
// Events API v2 event (developer.pagerduty.com/docs/events-api-v2/trigger-events) that triggers when
// a pool loses its primary or every endpoint, and resolves when it recovers. Pure functions.

import type { EndpointStatus } from "../health/types.js";
import type { WebhookFormat } from "../config/ops.js";
import type { Override } from "./overrides.js";
import type { PoolAnswer, PoolPolicy } from "../pool/types.js";

/** A pool answer as notices show it. */
export interface AnswerView {
  rcode: "noerror" | "servfail";
  ttl: number;
  /** The records of the first variant (addresses or a CNAME target); [] for NODATA and SERVFAIL. */
  records: string[];
  failOpen: boolean;
  reason: string;
}

export function answerView(a: PoolAnswer): AnswerView {
  return { rcode: a.rcode, ttl: a.ttl, records: a.rcode === "servfail" ? [] : [...(a.variants[0] ?? [])], failOpen: a.failOpen, reason: a.reason };
}

export interface TransitionNotice {
  event: "transition";
  at: number;
  check: string;
  address: string;
  from: EndpointStatus;
  to: EndpointStatus;
  reason: string;
  /** Pools with an endpoint probed as this (check, address), e.g. "app.example.test. A". */
  pools: string[];
}

export interface PoolNotice {
  /** fail_open: this change started or ended fail-open; pool: any other change of the answer. */
  event: "pool" | "fail_open";
  at: number;
  pool: { name: string; type: string; policy: PoolPolicy };
  before: AnswerView;
  after: AnswerView;
  primaryUp: boolean;
  primaryWasUp: boolean;
  /** What caused it, e.g. "127.0.0.2 down: HTTP 503". */
  cause: string;
  /** Sent once at start-up for a pool already in trouble (PagerDuty only: triggers are idempotent). */
  startup?: boolean;
}

export interface ReloadNotice {
  event: "reload";
  at: number;
  ok: boolean;
  errors: string[];
  ms: number;
  trigger: string;
  /** Whether the reload before this one succeeded (a success after a failure resolves PagerDuty). */
  previousOk: boolean;
}

export interface OverrideNotice {
  event: "override";
  at: number;
  change: "set" | "removed" | "expired";
  override: Override;
}

export type Notice = TransitionNotice | PoolNotice | ReloadNotice | OverrideNotice;

export interface ShapeContext {
  /** This server's host name, in every notice. */
  host: string;
  /** PagerDuty integration key. */
  routingKey?: string;
}

// ---- incidents: what PagerDuty triggers on ---------------------------------------------------------

/** The pool answers nothing healthy: fail-open, SERVFAIL or NODATA because every endpoint is down. */
export function allDown(a: AnswerView): boolean {
  return a.failOpen || a.rcode === "servfail" || a.records.length === 0;
}

/** critical: every endpoint down; warning: a failover pool lost its primary; null: healthy. */
export function poolTrouble(pool: PoolNotice["pool"], a: AnswerView, primaryUp: boolean): "critical" | "warning" | null {
  if (allDown(a)) return "critical";
  if (pool.policy === "failover" && !primaryUp) return "warning";
  return null;
}

// ---- one line for people -------------------------------------------------------------------------

function records(a: AnswerView): string {
  if (a.rcode === "servfail") return "SERVFAIL";
  if (a.records.length === 0) return "NODATA";
  return a.records.join(", ");
}

export function summaryOf(n: Notice, host: string): string {
  const at = `hadns@${host}`;
  switch (n.event) {
    case "transition":
      return `${at}: endpoint ${n.address} (check ${n.check}) ${n.from} → ${n.to}: ${n.reason}${n.pools.length > 0 ? ` [${n.pools.join(", ")}]` : ""}`;
    case "pool":
    case "fail_open": {
      const pool = `${n.pool.name} ${n.pool.type}`;
      if (n.startup) return `${at}: pool ${pool} answers ${records(n.after)} at start-up: ${n.after.reason}`;
      let what = `now answers ${records(n.after)} (was ${records(n.before)})`;
      if (n.after.failOpen && !n.before.failOpen) what = `FAIL-OPEN: every endpoint down, answering ${records(n.after)} anyway`;
      else if (!n.after.failOpen && n.before.failOpen) what = `fail-open over: answers ${records(n.after)}`;
      return `${at}: pool ${pool} ${what} — ${n.after.reason}; cause: ${n.cause}`;
    }
    case "reload":
      return n.ok
        ? `${at}: reloaded config and zones (${n.trigger}, ${n.ms} ms)`
        : `${at}: reload rejected (${n.trigger}), still serving the previous config: ${n.errors.slice(0, 3).join("; ")}${n.errors.length > 3 ? ` (+${n.errors.length - 3} more)` : ""}`;
    case "override": {
      const o = n.override;
      const target = `${o.address}${o.pool ? ` in ${o.pool}` : " in every pool"}`;
      if (n.change === "set") return `${at}: override ${o.action} ${target} until ${new Date(o.expiresAt).toISOString()}: ${o.reason}`;
      return `${at}: override ${o.action} ${target} ${n.change === "expired" ? "expired" : "removed"}`;
    }
  }
}

// ---- generic ---------------------------------------------------------------------------------------

/** The generic JSON document: the notice with its type, time, host and summary. Version 1. */
export function genericShape(n: Notice, ctx: ShapeContext): Record<string, unknown> {
  const head = { version: 1, event: n.event, time: new Date(n.at).toISOString(), host: ctx.host, summary: summaryOf(n, ctx.host) };
  switch (n.event) {
    case "transition":
      return { ...head, endpoint: { check: n.check, address: n.address }, from: n.from, to: n.to, reason: n.reason, pools: n.pools };
    case "pool":
    case "fail_open":
      return {
        ...head,
        pool: n.pool,
        before: n.before,
        after: n.after,
        failOpen: n.after.failOpen,
        primaryUp: n.primaryUp,
        primaryWasUp: n.primaryWasUp,
        reason: n.after.reason,
        cause: n.cause,
      };
    case "reload":
      return { ...head, ok: n.ok, errors: n.errors, ms: n.ms, trigger: n.trigger };
    case "override":
      return { ...head, change: n.change, override: n.override };
  }
}

// ---- Slack -----------------------------------------------------------------------------------------

const RED = "#d40e0d";
const AMBER = "#e8a317";
const GREEN = "#2eb67d";
const BLUE = "#439fe0";

function colourOf(n: Notice): string {
  switch (n.event) {
    case "transition":
      return n.to === "down" ? RED : n.to === "up" ? GREEN : AMBER;
    case "pool":
    case "fail_open": {
      const t = poolTrouble(n.pool, n.after, n.primaryUp);
      return t === "critical" ? RED : t === "warning" ? AMBER : GREEN;
    }
    case "reload":
      return n.ok ? GREEN : RED;
    case "override":
      return BLUE;
  }
}

/** A Slack-compatible incoming webhook message (also Mattermost, Rocket.Chat): text and one attachment. */
export function slackShape(n: Notice, ctx: ShapeContext): Record<string, unknown> {
  const fields: Array<{ title: string; value: string; short: boolean }> = [];
  switch (n.event) {
    case "transition":
      fields.push({ title: "Endpoint", value: `${n.address} (${n.check})`, short: true }, { title: "State", value: `${n.from} → ${n.to}`, short: true });
      if (n.pools.length > 0) fields.push({ title: "Pools", value: n.pools.join(", "), short: false });
      break;
    case "pool":
    case "fail_open":
      fields.push(
        { title: "Pool", value: `${n.pool.name} ${n.pool.type} (${n.pool.policy})`, short: true },
        { title: "Fail-open", value: n.after.failOpen ? "yes" : "no", short: true },
        { title: "Before", value: records(n.before), short: true },
        { title: "After", value: records(n.after), short: true },
      );
      break;
    case "reload":
      if (!n.ok) fields.push({ title: "Errors", value: n.errors.slice(0, 10).join("\n"), short: false });
      break;
    case "override":
      fields.push({ title: "Reason", value: n.override.reason, short: false });
      break;
  }
  const text = summaryOf(n, ctx.host);
  return {
    text,
    attachments: [{ color: colourOf(n), fallback: text, fields, footer: `hadns@${ctx.host}`, ts: Math.floor(n.at / 1000) }],
  };
}

// ---- PagerDuty Events API v2 ---------------------------------------------------------------------

/** One incident per pool, whichever hadns server reports it. */
export function pagerDutyDedupKey(pool: { name: string; type: string }): string {
  return `hadns:${pool.name}/${pool.type}`;
}

function clip(s: string, n: number): string {
  return s.length <= n ? s : s.slice(0, n - 1) + "…";
}

/**
 * A PagerDuty event, or null when the notice is not an incident change: trigger when a pool loses
 * its primary (failover pools) or every endpoint (fail-open, SERVFAIL, NODATA), again when it gets
 * worse or better but not well, resolve when it is well; a rejected reload triggers, the next good
 * reload resolves. Transitions and overrides are not incidents (send them to a generic or Slack hook).
 */
export function pagerDutyShape(n: Notice, ctx: ShapeContext): Record<string, unknown> | null {
  const base = { routing_key: ctx.routingKey ?? "" };
  const payload = (severity: string, component: string, cls: string) => ({
    summary: clip(summaryOf(n, ctx.host), 1024),
    source: ctx.host,
    severity,
    timestamp: new Date(n.at).toISOString(),
    component,
    group: "hadns",
    class: cls,
    custom_details: genericShape(n, ctx),
  });
  switch (n.event) {
    case "pool":
    case "fail_open": {
      const now = poolTrouble(n.pool, n.after, n.primaryUp);
      const was = n.startup ? null : poolTrouble(n.pool, n.before, n.primaryWasUp);
      const dedup_key = pagerDutyDedupKey(n.pool);
      if (now === null) return was === null ? null : { ...base, event_action: "resolve", dedup_key };
      if (now === was) return null;
      const cls = n.after.failOpen ? "fail_open" : now === "critical" ? "all_down" : "failover";
      return { ...base, event_action: "trigger", dedup_key, payload: payload(now, `${n.pool.name} ${n.pool.type}`, cls) };
    }
    case "reload": {
      const dedup_key = `hadns:reload:${ctx.host}`;
      if (!n.ok) return { ...base, event_action: "trigger", dedup_key, payload: payload("error", "config", "reload_rejected") };
      return n.previousOk ? null : { ...base, event_action: "resolve", dedup_key };
    }
    default:
      return null;
  }
}

/** The body to send for a notice in a format; null: nothing to send for it. */
export function shapeNotice(format: WebhookFormat, n: Notice, ctx: ShapeContext): Record<string, unknown> | null {
  switch (format) {
    case "generic":
      return genericShape(n, ctx);
    case "slack":
      return slackShape(n, ctx);
    case "pagerduty":
      return pagerDutyShape(n, ctx);
  }
}
