// End-to-end flows of the console (issue 5), in Debian's Chromium against
// a real `aftersale serve --sandbox`. SCREENSHOTS=1 also writes the
// screenshots of docs/screenshots/ (zh-CN, 1280 px and 390 px wide).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { startServer, apiClient, seed, launch, signIn, urge, root, PLATFORM, OPERATOR, PASSWORD } from "./harness.mjs";

const SHOTS = process.env.SCREENSHOTS === "1";
const shotDir = join(root, "docs", "screenshots");
let srv, api, browser;
const pages = {};

before(async () => {
  srv = await startServer();
  api = apiClient(srv.base);
  await seed(api);
  browser = await launch();
  if (SHOTS) mkdirSync(shotDir, { recursive: true });
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

const T0 = Date.now();
const mark = (s) => process.env.E2E_TRACE && console.error(`[${((Date.now() - T0) / 1000).toFixed(1)}s] ${s}`);

async function until(fn, what, ms = 10000) {
  mark("wait " + what);
  const end = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// shot saves a desktop screenshot of page and a phone one of the same URL
// for the same login.
async function shot(name, page, login, prepare) {
  mark("shot " + name);
  if (!SHOTS) return;
  await page.screenshot({ path: join(shotDir, `${name}-desktop.png`), fullPage: true });
  const phone = await signIn(browser, srv.base, login, { width: 390, height: 844 });
  await phone.goto(page.url());
  if (prepare) await prepare(phone);
  await phone.screenshot({ path: join(shotDir, `${name}-phone.png`), fullPage: true });
  await phone.context().close();
}

let taskId;

test("flow 1: urge a late order → card for the online sub-account → plan → buyer rejects → clock advanced → agent judges liable → scorecard", async () => {
  // The sub-account with the platform-task permission opens the workbench:
  // its page holds GET /v1/stream, which makes it online (R-NTF-2).
  const sub = await signIn(browser, srv.base, "subok");
  assert.match(sub.url(), /\/console\/tasks$/);
  await until(async () => (await api("GET", "/v1/shops/s1/accounts", PLATFORM)).accounts.find((a) => a.id === "sub_ok").online, "sub_ok online");

  // The buyer urges the late order o1 (R-URG-1): a task is created.
  const buyer = await signIn(browser, srv.base, "buyer1");
  assert.match(buyer.url(), /\/console\/orders$/);
  const o1 = buyer.locator('[data-order="o1"]');
  await o1.locator('[data-urge="create"]').waitFor();
  await buyer.locator('[data-order="o2"] [data-urge="mark"]').waitFor(); // within its deadline: only a mark (R-URG-3)
  await o1.locator('button[data-op="urge"]').click();
  await buyer.locator(".flash", { hasText: "已生成催发货任务" }).waitFor();

  // The sub-account's card pops up (a reminder for urge_shipment, R-NTF-1,
  // under the daily cap) with "view task", which opens it in place.
  const card = sub.locator("#cards .card").first();
  await card.waitFor({ timeout: 10000 });
  assert.match(await card.textContent(), /催发货/);
  assert.match(await card.textContent(), /o1/);
  pages.sub = sub;
  await card.locator(".c-view").click();
  const detail = sub.locator("#detail");
  await detail.locator('[data-form="propose_plan"]').waitFor();
  taskId = await detail.locator("h2[data-task-id]").getAttribute("data-task-id");
  assert.ok(taskId);
  assert.match(sub.url(), /\/console\/tasks$/, "the task opened in place");
  await detail.locator("#t-propose_plan").fill("明天上午顺丰发出，另送 10 元无门槛券");
  await detail.locator('[data-form="propose_plan"] button[type=submit]').click();
  await detail.locator('[data-state="awaiting_buyer_confirmation"]').waitFor();

  // The buyer rejects the plan (R-ST-2): the platform intervenes.
  await buyer.goto(srv.base + "/console/orders");
  await buyer.locator(`[data-order="o1"] a[href="/console/tasks/${taskId}"]`).click();
  await buyer.locator('[data-form="reject_plan"] button[type=submit]').click();
  await buyer.locator('#detail [data-state="platform_intervening"]').waitFor();

  // Two more urges nobody answers: the day's advance times them out into
  // the agents' queue (R-SLA-3, R-SLA-4).
  await urge(api, "o3", "b3");
  await urge(api, "o4", "b4");
  // The sandbox clock moves a day.
  const adv = await api("POST", "/v1/sandbox/clock/advance", OPERATOR, { by: "1d" });
  assert.ok(adv.now);

  // The agent's queue lists it; the agent judges the shop liable, with
  // forged evidence of the general kind (R-COL-6: 12 points).
  const agent = await signIn(browser, srv.base, "agent1");
  assert.match(agent.url(), /\/console\/queue$/);
  const row = agent.locator(`tr[data-task="${taskId}"]`);
  await row.waitFor();
  await shot("queue", agent, "agent1");
  await row.locator("a").click();
  await agent.locator('[data-form="judge"]').waitFor();
  await agent.locator('[data-form="agent_note"] textarea').fill("买家提供了聊天记录，卖家承诺发货后未发。");
  await agent.locator('[data-form="agent_note"] button[type=submit]').click();
  await agent.locator(".flash", { hasText: "仅小二可见" }).waitFor();
  await agent.locator('#detail .timeline li.v-agent_only').waitFor();
  await shot("task", agent, "agent1");
  await agent.locator('[data-form="judge"] input[name=liable][value=true]').check();
  await agent.locator('[data-form="judge"] select[name=forged]').selectOption("general");
  await agent.locator('[data-form="judge"] button[type=submit]').click();
  await agent.locator(".flash", { hasText: "已判定" }).waitFor();

  // The buyer never sees the agent-only note (R-MSG-2).
  await buyer.reload();
  assert.equal(await buyer.locator("text=卖家承诺发货后未发").count(), 0);

  // The scorecard shows the liable count and the points.
  const main = await signIn(browser, srv.base, "main1");
  await main.goto(srv.base + "/console/scorecard");
  assert.equal(await main.locator("[data-liable]").getAttribute("data-liable"), "1");
  assert.equal(await main.locator("[data-points]").getAttribute("data-points"), "12");
  await main.locator('[data-ledger="points"] td', { hasText: "R-COL-6" }).first().waitFor();
  await main.locator("svg.chart").waitFor();
  await shot("scorecard", main, "main1");
  pages.main = main;

  // The workbench screenshot: more urged orders, two of them with under
  // two hours left (highlighted), one opened in place.
  await urge(api, "o5", "b5");
  await urge(api, "o6", "b6");
  await api("POST", "/v1/sandbox/clock/advance", OPERATOR, { by: "22h30m" });
  await urge(api, "o7", "b7");
  await urge(api, "o8", "b8");
  await sub.goto(srv.base + "/console/tasks");
  await sub.locator(".tabs .n").first().waitFor();
  assert.equal(await sub.locator("tr[data-task] .due.soon").count(), 2);
  await sub.locator("tr[data-task] a").first().click();
  await sub.locator('#detail [data-form="reply"]').waitFor();
  await shot("workbench", sub, "subok");
});

test("flow 2: a sub-account without the permission sees the task but cannot act, and is told why (R-ACC-1); granted, it can", async () => {
  // A new R-NTF-2 task: the buyer asks for a resend on o2.
  const buyer = await signIn(browser, srv.base, "buyer1");
  const o2 = buyer.locator('[data-order="o2"]');
  await o2.locator("summary", { hasText: "申请售后" }).click();
  await o2.locator('select[name="type"]').selectOption("resend");
  await o2.locator('button[type=submit]', { hasText: "提交" }).click();
  await buyer.locator(".flash", { hasText: "补发" }).waitFor();
  // The online sub-account with the permission gets a card (R-NTF-2).
  await pages.sub.goto(srv.base + "/console/tasks");
  const tasks = await api("GET", "/v1/tasks?order_id=o2", PLATFORM);
  const resend = tasks.tasks.find((t) => t.type === "resend");
  assert.ok(resend);

  // The sub-account without the permission sees the task in its shop's
  // workbench, but every form on it says why it cannot act (R-ACC-1).
  const subno = await signIn(browser, srv.base, "subno");
  await subno.locator(`tr[data-task="${resend.id}"]`).waitFor();
  const res = await subno.goto(srv.base + "/console/tasks/" + resend.id);
  assert.equal(res.status(), 200);
  const why = subno.locator('.why[data-denied="reply"][data-reason="permission.platform_task"]');
  await why.waitFor();
  assert.match(await why.textContent(), /R-ACC-1/);
  assert.match(await why.textContent(), /子账号管理 → 客户服务平台权限 → 服务待办 → 平台任务/);
  assert.equal(await subno.locator('[data-form="reply"]').count(), 0);

  // The main account grants the permission on the sub-account page.
  const main = pages.main;
  await main.goto(srv.base + "/console/accounts");
  const toggle = main.locator('[data-toggle="sub_no"]');
  assert.equal(await toggle.getAttribute("aria-checked"), "false");
  await toggle.click();
  await main.locator('[data-toggle="sub_no"][aria-checked="true"]').waitFor();

  await subno.goto(srv.base + "/console/tasks/" + resend.id);
  await subno.locator('[data-form="reply"]').waitFor();
  assert.equal(await subno.locator(".why[data-denied]").count(), 0);
});

test("flow 3: a person changes their password on 账号设置; their other session ends; the new password signs in", async () => {
  await api("POST", "/v1/people", OPERATOR, { login: "pw.user", password: PASSWORD, role: "agent", subject_id: "a_pw" });
  const other = await signIn(browser, srv.base, "pw.user"); // a second session, elsewhere
  const me = await signIn(browser, srv.base, "pw.user");
  await me.click('header a[href="/console/account"]');
  const form = me.locator("form[data-password]");
  await form.waitFor();
  const submit = () => form.locator("button[type=submit]").click();
  const next = "a new pass phrase";
  await me.fill("#pw-current", PASSWORD);
  await me.fill("#pw-new", next);
  await me.fill("#pw-confirm", "not the same one");
  await submit();
  await form.locator("[data-pw-result].problem", { hasText: "两次输入的新密码不一致" }).waitFor();
  await me.fill("#pw-current", "not my password");
  await me.fill("#pw-confirm", next);
  await submit();
  await form.locator("[data-pw-result].problem", { hasText: "当前密码不正确" }).waitFor();
  await me.fill("#pw-current", PASSWORD);
  await submit();
  await form.locator("[data-pw-result].flash", { hasText: "密码已修改" }).waitFor();
  // This session stays and shows when; the other one is signed out.
  await me.goto(srv.base + "/console/account");
  assert.doesNotMatch(await me.locator("[data-pw-changed]").textContent(), /从未修改/);
  await other.goto(srv.base + "/console/account");
  await other.waitForURL((u) => u.pathname.startsWith("/console/login"));
  // The new password signs in; the old one does not.
  const bad = await fetch(srv.base + "/v1/sessions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ login: "pw.user", password: PASSWORD }) });
  assert.equal(bad.status, 401);
  const good = await fetch(srv.base + "/v1/sessions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ login: "pw.user", password: next }) });
  assert.equal(good.status, 201);
});
