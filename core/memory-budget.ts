// How many deliveries of one queue batch hold their message in memory at once. A Worker isolate
// has 128 MB, and one delivery holds several copies of its message: the ciphertext, the
// plaintext, the decoded attachments, the rendered MIME (base64 again) and the request body.
// Small messages all run side by side (that is what lets a batch share its round trips); large
// ones wait for room, and one larger than the whole budget runs alone instead of never.
//
// A weighted semaphore, first come first served (a large job is not starved by a stream of
// small ones). Written here rather than taken from async-mutex: its Semaphore walks every unit
// of capacity on each release (O(capacity)), which at byte-sized weights was a tenth of the
// delivery isolate's CPU in a profile of the benchmark (bench/profile.mjs).

/** Copies of a message one delivery holds at its peak (see above); a deliberate overestimate. */
export const DELIVERY_EXPANSION = 6;

const UNIT = 1024; // weights are in KiB

export class MemoryBudget {
  private readonly capacity: number;
  private free: number;
  private readonly waiting: { weight: number; admit: () => void }[] = [];

  constructor(budgetBytes: number, private readonly expansion = DELIVERY_EXPANSION) {
    this.capacity = Math.max(1, Math.floor(budgetBytes / UNIT));
    this.free = this.capacity;
  }

  /** The weight a message of `bytes` takes; unknown size counts as the smallest message. */
  weigh(bytes: number | undefined): number {
    if (bytes === undefined || !Number.isFinite(bytes) || bytes <= 0) return 1;
    return Math.min(this.capacity, Math.max(1, Math.ceil((bytes * this.expansion) / UNIT)));
  }

  /** Runs `work` once the message fits; its room is given back however `work` ends. */
  async run<T>(bytes: number | undefined, work: () => Promise<T>): Promise<T> {
    const weight = this.weigh(bytes);
    if (this.waiting.length === 0 && weight <= this.free) this.free -= weight;
    else await new Promise<void>((admit) => this.waiting.push({ weight, admit }));
    try {
      return await work();
    } finally {
      this.free += weight;
      this.admitWaiting();
    }
  }

  /** Admits waiting runs in arrival order while the first of them fits. */
  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.waiting[0]!.weight <= this.free) {
      const next = this.waiting.shift()!;
      this.free -= next.weight;
      next.admit();
    }
  }
}
