// Operator overrides: force an endpoint (one pool's, or every endpoint at an address) down, up or
// draining, with a reason and an expiry, after which it returns to its probed state by itself.
// `drain` takes an endpoint out of answers like `down`, but says it is maintenance, not a failure.

import { randomUUID } from "node:crypto";
import type { EndpointStatus } from "../health/types.js";

export type OverrideAction = "down" | "up" | "drain";

export interface Override {
  id: string;
  /** Pool name (absolute, with the final dot) and type, or undefined: every pool. */
  pool?: string;
  /** The answered address (or CNAME target) of the endpoint. */
  address: string;
  action: OverrideAction;
  reason: string;
  createdAt: number;
  expiresAt: number;
}

export interface OverrideRequest {
  pool?: string;
  address: string;
  action: OverrideAction;
  reason: string;
  forMs: number;
}

type Listener = (change: { kind: "set" | "removed" | "expired"; override: Override }) => void;

export class OverrideStore {
  private readonly items = new Map<string, Override>();
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: Listener[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  onChange(fn: Listener): void {
    this.listeners.push(fn);
  }

  list(): Override[] {
    this.expire();
    return [...this.items.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Adds an override; one for the same pool and address replaces the older one. */
  add(req: OverrideRequest): Override {
    const now = this.now();
    for (const o of this.items.values()) {
      if (o.address === req.address && o.pool === req.pool) this.items.delete(o.id);
    }
    const o: Override = {
      id: randomUUID(),
      ...(req.pool !== undefined ? { pool: req.pool } : {}),
      address: req.address,
      action: req.action,
      reason: req.reason,
      createdAt: now,
      expiresAt: now + req.forMs,
    };
    this.items.set(o.id, o);
    this.schedule();
    this.emit("set", o);
    return o;
  }

  remove(id: string): Override | undefined {
    const o = this.items.get(id);
    if (!o) return undefined;
    this.items.delete(id);
    this.schedule();
    this.emit("removed", o);
    return o;
  }

  /** Restores overrides saved in the state file (expired ones are dropped). */
  restore(saved: Override[]): void {
    const now = this.now();
    for (const o of saved) if (o.expiresAt > now) this.items.set(o.id, o);
    this.schedule();
  }

  /** The override that applies to an endpoint: the pool's own wins over an address-wide one. */
  find(pool: string, address: string): Override | undefined {
    let wide: Override | undefined;
    const now = this.now();
    for (const o of this.items.values()) {
      if (o.expiresAt <= now || o.address !== address) continue;
      if (o.pool === pool) return o;
      if (o.pool === undefined) wide = o;
    }
    return wide;
  }

  /** What an override makes of a probed status. */
  static apply(o: Override | undefined, probed: EndpointStatus): EndpointStatus {
    if (!o) return probed;
    return o.action === "up" ? "up" : "down";
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private emit(kind: "set" | "removed" | "expired", override: Override): void {
    for (const fn of this.listeners) fn({ kind, override });
  }

  private expire(): void {
    const now = this.now();
    for (const o of [...this.items.values()]) {
      if (o.expiresAt <= now) {
        this.items.delete(o.id);
        this.emit("expired", o);
      }
    }
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    let next = Infinity;
    for (const o of this.items.values()) next = Math.min(next, o.expiresAt);
    if (next === Infinity) return;
    this.timer = setTimeout(() => {
      this.expire();
      this.schedule();
    }, Math.max(0, Math.min(next - this.now(), 2 ** 31 - 1)));
    this.timer.unref();
  }
}
