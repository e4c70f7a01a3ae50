// The typed client's examples in README.md and clients/typescript/README.md compile against the
// generated schema (issue 27): a renamed field or path in the API breaks them here, not in a
// reader's editor. Each ```ts block importing "@relay/client" is type-checked with the client's
// compiler options. Plain Node (vitest project `core`).
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const clientEntry = path.join(root, "clients", "typescript", "src", "index.ts");
const dir = mkdtempSync(path.join(tmpdir(), "readme-client-"));

function blocks(file: string): string[] {
  const text = readFileSync(path.join(root, file), "utf8");
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes('from "@relay/client"'));
}

function diagnostics(code: string): string[] {
  const file = path.join(dir, `${crypto.randomUUID()}.ts`);
  const source = `export {};\ndeclare const process: { env: Record<string, string | undefined> };\n${code.replace('from "@relay/client"', `from ${JSON.stringify(clientEntry.replace(/\.ts$/, ""))}`)}`;
  writeFileSync(file, source);
  const program = ts.createProgram([file], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
    strict: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

describe("the typed client's README examples", () => {
  for (const file of ["README.md", "clients/typescript/README.md"]) {
    it(`${file}: every example compiles against the generated schema`, () => {
      const found = blocks(file);
      expect(found.length).toBeGreaterThan(0);
      for (const code of found) expect(diagnostics(code)).toEqual([]);
    });
  }

  it("a field the API does not have fails to compile", () => {
    const [code] = blocks("README.md");
    expect(diagnostics(code!.replace("accepted.id", "accepted.message_uuid")).join("\n")).toMatch(/message_uuid/);
  });
});
