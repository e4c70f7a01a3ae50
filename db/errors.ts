// Database errors as the rest of the code needs them. drizzle wraps driver errors in a
// "Failed query: <sql> params: <values>" error whose message carries row values (addresses,
// names): never log it; log `safeErrorMessage` instead, which keeps only the driver's cause.

function rootCause(e: unknown): unknown {
  let cur = e;
  for (let i = 0; i < 5 && cur instanceof Error && cur.cause !== undefined; i++) cur = cur.cause;
  return cur;
}

export function isUniqueViolation(e: unknown): boolean {
  const root = rootCause(e);
  return root instanceof Error && /UNIQUE constraint failed|SQLITE_CONSTRAINT/.test(root.message);
}

export function safeErrorMessage(e: unknown): string {
  const root = rootCause(e);
  if (!(root instanceof Error)) return String(root).slice(0, 300);
  // The driver's own message names tables/columns, not values.
  return `${root.name}: ${root.message.replace(/params:.*$/s, "")}`.slice(0, 300);
}
