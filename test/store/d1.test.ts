// The store conformance suite (test/store/conformance.ts) against the D1 adapter.
import { env } from "cloudflare:workers";
import { getDb } from "../../db/client";
import { d1Store } from "../../db/store/d1";
import { storeConformance } from "./conformance";
import { d1Exec, d1Seeder } from "./d1-seeder";

storeConformance("d1", async () => ({ store: d1Store(getDb(env.DB)), seed: d1Seeder(env.DB), exec: d1Exec(env.DB) }));
