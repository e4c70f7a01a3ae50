// The store on MySQL 8 / MariaDB 10.11+ through Hyperdrive: the Store interface (db/store/store.ts)
// with exactly the D1 adapter's meaning, in delivery.ts and outbox.ts.
//
// Connections. A mysql2 connection runs one command at a time, and a transaction belongs to the
// connection: two operations interleaving their statements on one connection would run inside
// each other's transactions (and a second START TRANSACTION commits the first). So every
// operation holds a connection of its own from its first statement to its last, and waits for
// one when all are busy. Given a connection (tests, scripts), the store uses only that one and
// leaves it open; given a Hyperdrive binding, it opens its connections on first use, up to
// `maxConnections` (default 1: a request or a queue batch, whose operations then run one after
// the other; a Worker invocation has only six outgoing connections for everything it does), and
// close() ends them. A connection that failed (lost, or a broken protocol state) is dropped and
// the next operation opens a new one.
import { connectThrough, type MysqlConnection, type MysqlDriver } from "../connect";
import type { Store } from "../../store/store";
import { mysqlDelivery } from "./delivery";
import { mysqlOutbox } from "./outbox";
import { mysqlAccept } from "./accept";
import { mysqlMessage } from "./messages";
import { mysqlTenant } from "./tenants";
import { mysqlAudit } from "./audit";
import { mysqlRecipient } from "./recipients";
import { mysqlCampaign } from "./campaigns";
import { mysqlProvider } from "./providers";
import { mysqlHealth } from "./health";
import { mysqlLlm } from "./llm";
import { mysqlWebhook } from "./webhooks";
import { mysqlInbound } from "./inbound";
import { mysqlMetrics } from "./metrics";
import { mysqlRetention } from "./retention";
import { driverError, sqlOn, transaction, type Runner } from "./sql";

export interface MysqlStoreOptions {
  /**
   * A read replica (the optional HYPERDRIVE_REPLICA binding, or a connection in tests): the reads
   * that tolerate lag (`Runner.lagging`) go there; everything else stays on the primary.
   */
  replica?: Hyperdrive | MysqlConnection;
  /** The driver, for a binding: mysql2, loaded lazily by the Worker (workers/lazy-libs.ts loadMysql2). */
  driver?: () => Promise<MysqlDriver>;
  /** How many connections the store may open at once (a binding only; default 1). */
  maxConnections?: number;
}

/** The MySQL store over a Hyperdrive binding (`env.HYPERDRIVE`); connects on first use. Synchronous and cheap, like openStore. */
export function mysqlStore(source: Hyperdrive | MysqlConnection, opts: MysqlStoreOptions = {}): Store {
  const poolOf = (s: Hyperdrive | MysqlConnection) =>
    isConnection(s)
      ? new Connections(async () => s, 1, false)
      : new Connections(async () => connectThrough(s, await driverOf(opts)), Math.max(1, opts.maxConnections ?? 1), true);
  const pools = [poolOf(source), ...(opts.replica ? [poolOf(opts.replica)] : [])];
  const runner = (pool: Connections, lagging?: Runner): Runner => {
    const r: Runner = {
      run: (fn) => pool.with((conn) => fn(sqlOn(conn))),
      tx: (fn) => pool.with((conn) => transaction(conn, fn)),
      get lagging() {
        return lagging ?? r;
      },
    };
    return r;
  };
  const db = runner(pools[0]!, pools[1] ? runner(pools[1]) : undefined);
  return {
    backend: "mysql",
    delivery: mysqlDelivery(db),
    outbox: mysqlOutbox(db),
    accept: mysqlAccept(db),
    messages: mysqlMessage(db),
    tenants: mysqlTenant(db),
    audit: mysqlAudit(db),
    recipients: mysqlRecipient(db),
    campaigns: mysqlCampaign(db),
    providers: mysqlProvider(db),
    health: mysqlHealth(db),
    llm: mysqlLlm(db),
    webhooks: mysqlWebhook(db),
    inbound: mysqlInbound(db),
    metrics: mysqlMetrics(db),
    retention: mysqlRetention(db),
    close: async () => void (await Promise.all(pools.map((p) => p.close()))),
  };
}

async function driverOf(opts: MysqlStoreOptions): Promise<MysqlDriver> {
  if (!opts.driver) throw new Error("mysqlStore over a Hyperdrive binding needs its driver (opts.driver)");
  return opts.driver();
}

const isConnection = (s: Hyperdrive | MysqlConnection): s is MysqlConnection => typeof (s as Partial<MysqlConnection>).query === "function";

interface Waiter {
  resolve(c: MysqlConnection): void;
  reject(e: unknown): void;
}

/** At most `max` connections, each held by one operation at a time. */
class Connections {
  private readonly idle: MysqlConnection[] = [];
  private readonly open = new Set<MysqlConnection>();
  private readonly waiters: Waiter[] = [];
  /** Busy when close() was called: ended as soon as their operation is done. */
  private readonly ending = new Set<MysqlConnection>();
  private opening = 0;

  constructor(
    private readonly connect: () => Promise<MysqlConnection>,
    private readonly max: number,
    /** Whether the store opened its connections (and so ends them). */
    private readonly owned: boolean,
  ) {}

  async with<T>(fn: (conn: MysqlConnection) => Promise<T>): Promise<T> {
    const conn = await this.acquire();
    let broken = false;
    try {
      return await fn(conn);
    } catch (e) {
      // mysql2 marks errors after which the connection is unusable as fatal.
      broken = driverError(e)?.fatal === true;
      throw e;
    } finally {
      this.release(conn, broken);
    }
  }

  private acquire(): Promise<MysqlConnection> {
    const conn = this.idle.pop();
    if (conn) return Promise.resolve(conn);
    if (this.open.size + this.opening < this.max) return this.openOne();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private async openOne(): Promise<MysqlConnection> {
    this.opening++;
    try {
      const conn = await this.connect();
      this.open.add(conn);
      return conn;
    } finally {
      this.opening--;
    }
  }

  private release(conn: MysqlConnection, broken: boolean): void {
    if (broken || this.ending.has(conn)) {
      this.open.delete(conn);
      this.ending.delete(conn);
      if (this.owned) void (broken ? Promise.resolve(conn.destroy()) : conn.end()).catch(() => {});
      // A waiter gets a new connection instead (or the error of opening one).
      const next = this.waiters.shift();
      if (next) this.openOne().then(next.resolve, next.reject);
      return;
    }
    const next = this.waiters.shift();
    if (next) next.resolve(conn);
    else this.idle.push(conn);
  }

  /** Ends the idle connections now and the busy ones when their operation is done; the store opens new ones if used again. */
  async close(): Promise<void> {
    if (!this.owned) return;
    const idle = this.idle.splice(0);
    for (const conn of this.open) if (!idle.includes(conn)) this.ending.add(conn);
    for (const conn of idle) this.open.delete(conn);
    await Promise.all(idle.map((conn) => conn.end().catch(() => {})));
  }
}
