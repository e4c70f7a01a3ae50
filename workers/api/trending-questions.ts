// /v1/workspace/trending-questions: the workspace's <<TRENDING_QUESTION>> list and selection
// rule, stored in the workspace settings (core/trending.ts chooses one per message).
import { OpenAPIHono } from "@hono/zod-openapi";
import { notFound } from "../../core/errors";
import { trendingQuestionsSchema } from "../../core/trending";
import { parseWorkspaceConfig } from "../../core/workspace-config";
import type { AppEnv } from "./context";
import { route } from "./route";
import { errorResponses } from "./schemas";
import { validationHook } from "./validation";

export const trendingQuestionsApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

const ok = { description: "The stored list and rule", content: { "application/json": { schema: trendingQuestionsSchema } } };

trendingQuestionsApp.openapi(
  route({
    method: "get",
    path: "/workspace/trending-questions",
    operationId: "workspace.getTrendingQuestions",
    summary: "The trending questions and their selection rule",
    auth: "read",
    responses: { 200: ok, ...errorResponses },
  }),
  async (c) => {
    const ws = await c.var.store.tenants.workspace(c.var.workspaceId);
    if (!ws) throw notFound("workspace");
    return c.json(parseWorkspaceConfig(ws.configuration).trending_questions, 200);
  },
);

trendingQuestionsApp.openapi(
  route({
    method: "put",
    path: "/workspace/trending-questions",
    operationId: "workspace.setTrendingQuestions",
    summary: "Replace the trending questions (newest first) and the rule: latest, rotating (daily) or random (per message)",
    auth: "admin",
    request: { body: { content: { "application/json": { schema: trendingQuestionsSchema, example: { questions: ["How do I reschedule my appointment?", "When are my test results ready?"], rule: "rotating" } } }, required: true } },
    responses: { 200: ok, ...errorResponses },
  }),
  async (c) => {
    const id = c.var.workspaceId;
    const ws = await c.var.store.tenants.workspace(id);
    if (!ws) throw notFound("workspace");
    const value = c.req.valid("json");
    const row = await c.var.store.tenants.updateConfiguration(id, { ...ws.configuration, trending_questions: value }, Date.now());
    return c.json(parseWorkspaceConfig(row!.configuration).trending_questions, 200);
  },
);
