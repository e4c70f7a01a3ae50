// The store conformance suite (test/store/conformance.ts) against the MySQL adapter, through the
// Hyperdrive binding. Every backend() is a connection of its own, opened before the test runs its
// operations (so the 20 claimers race on 20 open connections) and closed when the test ends.
import { mysqlStore } from "../../db/mysql/store";
import { storeConformance } from "../store/conformance";
import { mysqlExec, mysqlSeeder } from "../store/mysql-seeder";
import { connect } from "./helpers";

storeConformance("mysql", async () => {
  const exec = mysqlExec();
  return { store: mysqlStore(await connect()), seed: mysqlSeeder(exec), exec };
});
