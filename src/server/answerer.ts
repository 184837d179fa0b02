// The one place where the listeners meet the answer engine: swaps engines atomically (reload) and
// makes sure no exception from answering ever escapes into a socket handler.

import type { Logger } from "pino";
import type { QueryEngine, Transport } from "../answer/engine.js";
import { peekSpecial } from "../wire/query.js";

/**
 * Zone transfers and NOTIFY (RFC 5936, 1995, 1996): messages that need the client's address (access
 * control, TSIG) and may take several messages to answer. Null: answer as the engine would.
 */
export interface TransferHandler {
  handle(msg: Buffer, transport: Transport, remote: string): Buffer | Buffer[] | null;
}

export class Answerer {
  private lastErrorLog = 0;
  private suppressed = 0;
  transfers: TransferHandler | undefined;

  constructor(
    public engine: QueryEngine,
    private readonly log: Logger,
  ) {}

  /** Whether answer() will look at `remote` for this message (transfers, NOTIFY): else "" will do. */
  needsRemote(msg: Buffer): boolean {
    return this.transfers !== undefined && peekSpecial(msg);
  }

  answer(msg: Buffer, transport: Transport, remote: string): Buffer | Buffer[] | null {
    try {
      if (this.transfers !== undefined && peekSpecial(msg)) {
        const r = this.transfers.handle(msg, transport, remote);
        if (r !== null) return r;
      }
      return this.engine.answer(msg, transport);
    } catch (e) {
      // A bug, not bad input (bad input gets FORMERR): log it (at most once a second) and stay up.
      this.rateLimited(() => this.log.error({ err: e, query: msg.subarray(0, 512).toString("hex") }, "internal error answering a query; no reply sent"));
      return null;
    }
  }

  sendFailed(err: Error): void {
    this.rateLimited(() => this.log.warn({ err }, "could not send a response"));
  }

  private rateLimited(fn: () => void): void {
    const now = Date.now();
    if (now - this.lastErrorLog < 1000) {
      this.suppressed++;
      return;
    }
    if (this.suppressed > 0) this.log.warn({ suppressed: this.suppressed }, "similar messages suppressed");
    this.suppressed = 0;
    this.lastErrorLog = now;
    fn();
  }
}
