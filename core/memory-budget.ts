// How many deliveries of one queue batch hold their message in memory at once. A Worker isolate
// has 128 MB, and one delivery holds several copies of its message: the ciphertext, the
// plaintext, the decoded attachments, the rendered MIME (base64 again) and the request body.
// Small messages all run side by side (that is what lets a batch share its round trips); large
// ones wait for room, and one larger than the whole budget runs alone instead of never.
//
// The waiting is async-mutex's weighted Semaphore (first come, first served, so a large job is
// not starved by a stream of small ones); this file only turns bytes into weights.
import { Semaphore } from "async-mutex";

/** Copies of a message one delivery holds at its peak (see above); a measured-safe overestimate. */
export const DELIVERY_EXPANSION = 6;

const UNIT = 1024; // weights are in KiB: whole numbers, and a 100 MB budget stays a small count

export class MemoryBudget {
  private readonly sem: Semaphore;
  private readonly capacity: number;

  constructor(budgetBytes: number, private readonly expansion = DELIVERY_EXPANSION) {
    this.capacity = Math.max(1, Math.floor(budgetBytes / UNIT));
    this.sem = new Semaphore(this.capacity);
  }

  /** The weight a message of `bytes` takes; unknown size counts as the smallest message. */
  weigh(bytes: number | undefined): number {
    if (bytes === undefined || !Number.isFinite(bytes) || bytes <= 0) return 1;
    return Math.min(this.capacity, Math.max(1, Math.ceil((bytes * this.expansion) / UNIT)));
  }

  /** Runs `work` once the message fits; its room is given back however `work` ends. */
  run<T>(bytes: number | undefined, work: () => Promise<T>): Promise<T> {
    return this.sem.runExclusive(work, this.weigh(bytes));
  }
}
