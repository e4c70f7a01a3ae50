/** Runs work after the response (ExecutionContext.waitUntil); absent in some callers (tests, jobs). */
export type Defer = (work: Promise<unknown>) => void;
