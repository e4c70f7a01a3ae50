// Campaigns and their per-day counters. The counter statements are built here and run inside
// the batch that changes the recipients they count (accept, delivery record, bounce report), so
// a counter and the status it counts commit together and cost no extra round trip.
import { and, desc, eq, gte, inArray, lt, lte, or, sql, type SQL } from "drizzle-orm";
import { zeroCounts, type CampaignCounter, type CampaignCounts, type CampaignStatus } from "../core/campaigns";
import { PENDING_STATUSES } from "../core/status";
import type { Db } from "./client";
import { campaigns, campaignStats, messageRecipients, messages } from "./schema";

export type CampaignRow = typeof campaigns.$inferSelect;
export type CampaignStatsRow = typeof campaignStats.$inferSelect;

export async function insertCampaign(db: Db, row: typeof campaigns.$inferInsert): Promise<CampaignRow> {
  const [created] = await db.insert(campaigns).values(row).returning();
  return created!;
}

export const getCampaign = (db: Db, workspaceId: string, id: string): Promise<CampaignRow | undefined> =>
  db.select().from(campaigns).where(and(eq(campaigns.workspaceId, workspaceId), eq(campaigns.id, id))).get();

/** The accept path's precondition: the campaign's status, if it is this workspace's (undefined otherwise). */
export async function campaignStatus(db: Db, workspaceId: string, id: string): Promise<CampaignStatus | undefined> {
  const rows = await db
    .select({ status: campaigns.status })
    .from(campaigns)
    .where(and(eq(campaigns.workspaceId, workspaceId), eq(campaigns.id, id)))
    .limit(1);
  return rows[0]?.status;
}

export async function listCampaigns(
  db: Db,
  workspaceId: string,
  f: { status?: CampaignStatus; before?: { createdAt: number; id: string }; limit: number },
): Promise<CampaignRow[]> {
  const where: SQL[] = [eq(campaigns.workspaceId, workspaceId)];
  if (f.status) where.push(eq(campaigns.status, f.status));
  if (f.before) where.push(or(lt(campaigns.createdAt, f.before.createdAt), and(eq(campaigns.createdAt, f.before.createdAt), lt(campaigns.id, f.before.id)))!);
  return db.select().from(campaigns).where(and(...where)).orderBy(desc(campaigns.createdAt), desc(campaigns.id)).limit(f.limit).all();
}

export async function updateCampaign(
  db: Db,
  workspaceId: string,
  id: string,
  set: { name?: string; status?: CampaignStatus },
  at: number,
): Promise<CampaignRow | undefined> {
  const [row] = await db
    .update(campaigns)
    .set({ ...set, updatedAt: at })
    .where(and(eq(campaigns.workspaceId, workspaceId), eq(campaigns.id, id)))
    .returning();
  return row;
}

/** Per-day rows of one campaign, oldest first, within [since, until] (YYYY-MM-DD, inclusive). */
function campaignDaysQuery(db: Db, workspaceId: string, id: string, range: { since?: string; until?: string }) {
  const where: SQL[] = [eq(campaignStats.workspaceId, workspaceId), eq(campaignStats.campaignId, id)];
  if (range.since) where.push(gte(campaignStats.day, range.since));
  if (range.until) where.push(lte(campaignStats.day, range.until));
  return db.select().from(campaignStats).where(and(...where)).orderBy(campaignStats.day);
}

/** One campaign with its all-time totals and the days in range, in one round trip. */
export async function campaignWithStats(db: Db, workspaceId: string, id: string, range: { since?: string; until?: string } = {}) {
  const [rows, totals, days] = await db.batch([
    db.select().from(campaigns).where(and(eq(campaigns.workspaceId, workspaceId), eq(campaigns.id, id))).limit(1),
    totalsQuery(db, workspaceId, [id]),
    campaignDaysQuery(db, workspaceId, id, range),
  ]);
  const campaign = rows[0];
  if (!campaign) return undefined;
  const { campaignId: _, ...total } = totals[0] ?? { campaignId: id, ...zeroCounts() };
  return { campaign, totals: total as CampaignCounts, days };
}

/** All-time totals for several campaigns at once (the list view). */
export async function campaignTotals(db: Db, workspaceId: string, ids: string[]): Promise<Map<string, CampaignCounts>> {
  if (ids.length === 0) return new Map();
  const rows = await totalsQuery(db, workspaceId, ids).all();
  return new Map(rows.map(({ campaignId, ...counts }) => [campaignId, counts]));
}

const totalsQuery = (db: Db, workspaceId: string, ids: string[]) =>
  db
    .select({
      campaignId: campaignStats.campaignId,
      queued: sql<number>`sum(${campaignStats.queued})`,
      sent: sql<number>`sum(${campaignStats.sent})`,
      delivered: sql<number>`sum(${campaignStats.delivered})`,
      bounced: sql<number>`sum(${campaignStats.bounced})`,
      complained: sql<number>`sum(${campaignStats.complained})`,
      failed: sql<number>`sum(${campaignStats.failed})`,
      suppressed: sql<number>`sum(${campaignStats.suppressed})`,
    })
    .from(campaignStats)
    .where(and(eq(campaignStats.workspaceId, workspaceId), inArray(campaignStats.campaignId, ids)))
    .groupBy(campaignStats.campaignId);

export interface CampaignDay {
  campaignId: string;
  workspaceId: string;
  day: string;
}

const column = {
  queued: "queued",
  sent: "sent",
  delivered: "delivered",
  bounced: "bounced",
  complained: "complained",
  failed: "failed",
  suppressed: "suppressed",
} as const satisfies Record<CampaignCounter, string>;

// Every counter column, in the table's order: an INSERT ... SELECT fills all of them.
const COUNTER_ORDER: readonly CampaignCounter[] = ["queued", "sent", "delivered", "bounced", "complained", "failed", "suppressed"];

/** Adds one-row SELECT results to the day's counters (ON CONFLICT: add to the existing row). */
function upsertFromSelect(db: Db, select: SQL, counters: CampaignCounter[]) {
  const set = Object.fromEntries(counters.map((k) => [k, sql.raw(`${column[k]} + excluded.${column[k]}`)]));
  // The select ends in WHERE/HAVING, which is what lets SQLite parse an upsert from a SELECT.
  return db.insert(campaignStats).select(select).onConflictDoUpdate({ target: [campaignStats.campaignId, campaignStats.day], set });
}

/**
 * Counts the recipients of one message that are about to move into a counted status, and adds
 * them; it must run in the same batch as, and before, the statements that move them. A row is
 * counted only when its current status is one of `from` (and not already the target), so a
 * redelivered job, a second report of the same bounce, or a consumer whose lease was taken over
 * adds nothing. Ids travel as one JSON parameter each, so 500 recipients fit D1's 100-bind limit.
 */
export function countTransitions(
  db: Db,
  key: CampaignDay & { messageId: string },
  moves: Partial<Record<CampaignCounter, string[]>>,
  from: readonly string[],
) {
  const counters = COUNTER_ORDER.filter((k) => (moves[k]?.length ?? 0) > 0);
  if (counters.length === 0) return null;
  const values = COUNTER_ORDER.map((k) =>
    counters.includes(k)
      ? sql`coalesce(sum(${messageRecipients.id} in (select value from json_each(${JSON.stringify(moves[k])})) and ${messageRecipients.status} <> ${k}), 0)`
      : sql`0`,
  );
  const all = counters.flatMap((k) => moves[k]!);
  // HAVING keeps an outcome with nothing to count from creating an empty day row.
  return upsertFromSelect(
    db,
    sql`select ${key.campaignId}, ${key.workspaceId}, ${key.day}, ${sql.join(values, sql`, `)}
    from ${messageRecipients}
    where ${messageRecipients.workspaceId} = ${key.workspaceId} and ${messageRecipients.messageId} = ${key.messageId}
      and ${messageRecipients.id} in (select value from json_each(${JSON.stringify(all)}))
      and ${messageRecipients.status} in (select value from json_each(${JSON.stringify(from)}))
    having count(*) > 0`,
    counters,
  );
}

/**
 * Counts every still-pending recipient of a message as failed (the dead-letter path), before
 * they are failed. The campaign comes from the message row itself: this path is rare and its
 * caller only has the job's ids.
 */
export function countPendingAsFailed(db: Db, workspaceId: string, messageId: string, day: string) {
  const values = COUNTER_ORDER.map((k) => (k === "failed" ? sql`count(*)` : sql`0`));
  return upsertFromSelect(
    db,
    sql`select ${messages.campaignId}, ${messages.workspaceId}, ${day}, ${sql.join(values, sql`, `)}
    from ${messages} join ${messageRecipients} on ${messageRecipients.messageId} = ${messages.id}
    where ${messages.workspaceId} = ${workspaceId} and ${messages.id} = ${messageId} and ${messages.campaignId} is not null
      and ${messageRecipients.status} in (select value from json_each(${JSON.stringify(PENDING_STATUSES)}))
    group by ${messages.id}
    having count(*) > 0`,
    ["failed"],
  );
}
