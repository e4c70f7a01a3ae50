// STORE picks the backend; a missing binding or an unknown backend is refused by name at the
// first use, not discovered as an undefined deep in a query.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { openStore } from "../db/store/open";

describe("openStore", () => {
  it("is D1 by default", () => {
    expect(openStore(env).backend).toBe("d1");
  });

  it("refuses a backend whose binding is missing, and an unknown backend, with the var's name", () => {
    expect(() => openStore({ ...env, DB: undefined } as unknown as Env)).toThrow(/configuration STORE: d1 needs the D1 binding DB/);
    expect(() => openStore({ ...env, STORE: "mysql", HYPERDRIVE: undefined } as unknown as Env)).toThrow(/configuration STORE: mysql needs the Hyperdrive binding HYPERDRIVE/);
    expect(() => openStore({ ...env, STORE: "sqlite" } as unknown as Env)).toThrow(/configuration STORE/);
  });
});
