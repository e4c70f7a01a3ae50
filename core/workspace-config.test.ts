import { describe, expect, it } from "vitest";
import { DEFAULT_LLM_SETTINGS } from "./llm/settings";
import { applySettingsPatch, mergeSettings, parseWorkspaceConfig } from "./workspace-config";

describe("workspace settings", () => {
  it("one setting that no longer validates falls back alone; the others stay", () => {
    // A phi pattern saved before RE2 (lookbehind) no longer validates: LLM use turns off (safe),
    // and the workspace's limits are not reset to defaults with it.
    const c = parseWorkspaceConfig({ limits: { daily: 7 }, llm: { enabled: true, phi_patterns: [{ name: "p", pattern: "(?<=MRN)\\d+" }] } });
    expect(c.limits.daily).toBe(7);
    expect(c.llm).toEqual(DEFAULT_LLM_SETTINGS);
  });

  it("merges objects, replaces arrays, deletes on null", () => {
    expect(mergeSettings({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { c: 3 }, l: [3] })).toEqual({ a: { b: 1, c: 3 }, l: [3] });
    expect(mergeSettings({ a: { b: 1 }, d: 1 }, { a: null })).toEqual({ d: 1 });
  });

  it("validates what the patch touched, after the merge", () => {
    expect(applySettingsPatch({ limits: { daily: 5 } }, { limits: { user_daily: 2 } })).toEqual({ ok: true, value: { limits: { daily: 5, user_daily: 2 } } });
    expect(applySettingsPatch({}, { retry_policy: { factor: 99 } })).toMatchObject({ ok: false, field: "retry_policy.factor" });
  });
});
