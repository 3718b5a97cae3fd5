// What the loopback webhook receiver (webhook-receiver.ts, in Node) and the tests that script it
// (test/webhook-helpers.ts, in workerd) say to each other. Types only, with no imports, so that
// both programs, each with its own runtime's types, can import it.

/** How the receiver answers one delivery to a key (`PUT /__script/<key>` sends a list of them). */
export interface Step {
  status?: number;
  body?: string;
  /** A body of that many "x". */
  bytes?: number;
  /** Never answer (until the server closes). */
  hang?: boolean;
  /** Answer (as the step says) only once the test calls `release`. */
  hold?: boolean;
  location?: string;
}

/** A delivery as the receiver recorded it (`GET /__received/<key>`). */
export interface Received {
  headers: Record<string, string>;
  body: string;
  at: number;
}
