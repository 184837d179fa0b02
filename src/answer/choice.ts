// A compiled answer with several variants (a pool rotating or choosing by weight): the query path
// picks one with a counter or one random number, never by looking at health.

import type { Template } from "./template.js";

export type Selection = "fixed" | "rotate" | "weighted";

export class Choice {
  private counter = 0;
  private readonly cumulative: Float64Array;
  private readonly total: number;

  constructor(
    readonly templates: Template[],
    readonly selection: Selection,
    weights?: readonly number[],
  ) {
    this.cumulative = new Float64Array(templates.length);
    let sum = 0;
    for (let i = 0; i < templates.length; i++) {
      sum += weights?.[i] ?? 1;
      this.cumulative[i] = sum;
    }
    this.total = sum;
  }

  next(): Template {
    const n = this.templates.length;
    if (this.selection === "rotate") {
      const i = this.counter;
      this.counter = i + 1 >= n ? 0 : i + 1;
      return this.templates[i]!;
    }
    if (this.selection === "weighted") {
      const r = Math.random() * this.total;
      const c = this.cumulative;
      for (let i = 0; i < n; i++) if (r < c[i]!) return this.templates[i]!;
      return this.templates[n - 1]!;
    }
    return this.templates[0]!;
  }
}

export type Slot = Template | Choice;

export function resolveSlot(slot: Slot): Template {
  return slot instanceof Choice ? slot.next() : slot;
}
