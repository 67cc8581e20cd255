// Starts a real `aftersale serve --sandbox` on a free loopback port with a
// temporary SQLite file, seeds it through the JSON API with the platform
// and operator keys, and launches Debian's Chromium through playwright-core.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, "..");
export const PLATFORM = "platform_e2e_key_0123456789abcdef";
export const OPERATOR = "operator_e2e_key_0123456789abcdef";
export const PASSWORD = "e2e password 1234";

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

export async function startServer() {
  const bin = process.env.AFTERSALE_BIN || join(here, ".bin", "aftersale");
  const dir = mkdtempSync(join(tmpdir(), "aftersale-e2e-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const log = [];
  const proc = spawn(bin, ["serve", "--sandbox", "--addr", `127.0.0.1:${port}`, "--db", join(dir, "e2e.db"), "--log-level", "warn"], {
    env: { ...process.env, AFTERSALE_API_KEYS: `platform:${PLATFORM},operator:${OPERATOR}` },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout.on("data", (d) => log.push(String(d)));
  proc.stderr.on("data", (d) => log.push(String(d)));
  for (let i = 0; ; i++) {
    try { if ((await fetch(base + "/healthz")).ok) break; } catch { /* not yet */ }
    if (proc.exitCode !== null || i > 200) throw new Error("server did not start:\n" + log.join(""));
    await new Promise((r) => setTimeout(r, 50));
  }
  const stop = async () => {
    proc.kill("SIGTERM");
    await new Promise((r) => (proc.exitCode !== null ? r() : proc.once("exit", r)));
    rmSync(dir, { recursive: true, force: true });
  };
  return { base, stop, log };
}

// api calls the JSON API with a key; it throws on an unexpected status.
export function apiClient(base) {
  return async function api(method, path, key, body, want = [200, 201, 204]) {
    const res = await fetch(base + path, {
      method, headers: { Authorization: "Bearer " + key, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!want.includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
}

// seed makes shop s1 (taobao) with main account s1_main, sub-accounts
// sub_ok (platform_task, reminders) and sub_no (no permission), a late
// unshipped order o1 of buyer b1, and logins for them and an agent.
export async function seed(api) {
  const { now } = await api("GET", "/v1/sandbox/clock", OPERATOR);
  const t = Date.parse(now);
  const iso = (ms) => new Date(ms).toISOString();
  const facts = [
    { id: "shop-s1", type: "shop", at: iso(t - 72 * 3600e3), shop: { id: "s1", platform: "taobao", industry: "apparel", main_account: "s1_main",
      ship_from_region: "zhejiang", invoice_mode: "upload",
      sub_accounts: [{ id: "sub_ok", permissions: ["platform_task"], subscribes_reminders: true }, { id: "sub_no", subscribes_reminders: true }] } },
    { id: "order-o1", type: "order", at: iso(t - 50 * 3600e3), order: { id: "o1", shop_id: "s1", buyer_id: "b1", buyer_region: "beijing",
      paid_fen: 12900, paid_at: iso(t - 50 * 3600e3), ship_by: iso(t - 2 * 3600e3), items: [{ sku: "TEE-1", category: "apparel" }] } },
    { id: "order-o2", type: "order", at: iso(t - 3600e3), order: { id: "o2", shop_id: "s1", buyer_id: "b1", buyer_region: "beijing",
      paid_fen: 5900, paid_at: iso(t - 3600e3), ship_by: iso(t + 47 * 3600e3), items: [{ sku: "CAP-2", category: "apparel" }] } },
  ];
  // More late orders of other buyers, urged later for the workbench's rows.
  for (const [n, buyer] of [[3, "b3"], [4, "b4"], [5, "b5"], [6, "b6"], [7, "b7"], [8, "b8"]]) {
    facts.push({ id: "order-o" + n, type: "order", at: iso(t - 60 * 3600e3), order: { id: "o" + n, shop_id: "s1", buyer_id: buyer, buyer_region: "shanghai",
      paid_fen: 3900 + n * 1000, paid_at: iso(t - 60 * 3600e3), ship_by: iso(t - 12 * 3600e3), items: [{ sku: "SKU-" + n, category: "apparel" }] } });
  }
  const res = await api("POST", "/v1/facts", PLATFORM, { facts });
  if (res.accepted !== facts.length) throw new Error("seed facts: " + JSON.stringify(res));
  for (const [login, role, subject] of [["buyer1", "buyer", "b1"], ["main1", "shop_main", "s1_main"], ["subok", "shop_sub", "sub_ok"],
    ["subno", "shop_sub", "sub_no"], ["agent1", "agent", "a1"]]) {
    await api("POST", "/v1/people", OPERATOR, { login, password: PASSWORD, role, subject_id: subject });
  }
}

// urge presses urge shipment for the order's buyer through the API.
export async function urge(api, order, buyer) {
  return api("POST", `/v1/orders/${order}/urge`, PLATFORM, { actor: { role: "buyer", id: buyer } });
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
}

// signIn opens a page of its own (own cookies) and signs in on the console.
export async function signIn(browser, base, login, viewport = { width: 1280, height: 860 }) {
  if (process.env.E2E_TRACE) console.error(`[sign in ${login}] ${new Date().toISOString()}`);
  const ctx = await browser.newContext({ viewport, locale: "zh-CN", deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  await page.goto(base + "/console/login");
  await page.fill("#login", login);
  await page.fill("#password", PASSWORD);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith("/console/login")), page.click("button[type=submit]")]);
  return page;
}
