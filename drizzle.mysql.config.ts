// MySQL (through Hyperdrive) migrations, beside the D1 ones: `npm run db:mysql:generate`.
// Applied by db/mysql/migrate.ts (`npm run db:mysql:migrate`, and in the MySQL tests).
import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "mysql",
  schema: "./db/mysql/schema/index.ts",
  out: "./migrations-mysql",
});
