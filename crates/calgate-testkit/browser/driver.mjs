// Drives one headless Chromium for the page tests. The Rust test sends one JSON command per line
// on stdin and reads one JSON answer per line on stdout; the test decides and asserts, this only
// acts on the page. Usage: node driver.mjs  (env: CALGATE_TEST_PLAYWRIGHT = the playwright-core
// package directory, CALGATE_TEST_CHROMIUM = the browser executable).
import { createRequire } from "node:module";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import readline from "node:readline";

const pkg = process.env.CALGATE_TEST_PLAYWRIGHT;
const executablePath = process.env.CALGATE_TEST_CHROMIUM || "/usr/bin/chromium";
const require = createRequire(import.meta.url);
const { chromium } = require(pkg);

const profile = mkdtempSync(join(tmpdir(), "calgate-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  viewport: { width: 1366, height: 768 },
  // The operator's clock: a zone without daylight saving, so expected local times are fixed.
  timezoneId: process.env.CALGATE_TEST_BROWSER_TZ || "Asia/Kolkata",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
  ],
});
let page = context.pages()[0] || (await context.newPage());
const consoleErrors = [];
function watch(p) {
  p.on("console", (m) => { if (m.type() === "error") consoleErrors.push(m.text()); });
  p.on("pageerror", (e) => consoleErrors.push(String(e)));
}
watch(page);

const T = 10000;
async function run(c) {
  switch (c.op) {
    case "goto": { const r = await page.goto(c.url, { waitUntil: "load" }); return r ? r.status() : 0; }
    case "url": return page.url();
    case "fill": await page.fill(c.sel, c.value, { timeout: T }); return null;
    case "click": await page.click(c.sel, { timeout: T }); return null;
    case "clickNav": await Promise.all([page.waitForNavigation({ timeout: T }), page.click(c.sel, { timeout: T })]); return page.url();
    case "check": await page.check(c.sel, { timeout: T }); return null;
    // A file chosen in a file input: `name` and its UTF-8 `text`.
    case "upload": await page.setInputFiles(c.sel, { name: c.name, mimeType: c.mime || "text/csv", buffer: Buffer.from(c.text, "utf8") }, { timeout: T }); return null;
    case "uncheck": await page.uncheck(c.sel, { timeout: T }); return null;
    case "select": await page.selectOption(c.sel, c.value, { timeout: T }); return null;
    case "press": await page.keyboard.press(c.key); return null;
    case "type": await page.keyboard.type(c.text, { delay: 20 }); return null;
    case "focus": await page.focus(c.sel, { timeout: T }); return null;
    case "text": return await page.textContent(c.sel, { timeout: T });
    case "texts": return await page.$$eval(c.sel, (els) => els.map((e) => e.textContent));
    case "attr": return await page.getAttribute(c.sel, c.name, { timeout: T });
    case "value": return await page.inputValue(c.sel, { timeout: T });
    case "visible": return await page.isVisible(c.sel);
    case "count": return await page.locator(c.sel).count();
    case "wait": await page.waitForSelector(c.sel, { state: c.state || "visible", timeout: c.timeout || T }); return null;
    case "waitAttr": {
      const started = Date.now();
      await page.waitForFunction(
        ([sel, name, value]) => { const e = document.querySelector(sel); return !!e && e.getAttribute(name) === value; },
        [c.sel, c.name, c.value], { timeout: c.timeout || T, polling: 50 });
      return Date.now() - started;
    }
    case "waitText": {
      await page.waitForFunction(
        ([sel, text]) => { const e = document.querySelector(sel); return !!e && e.textContent.includes(text); },
        [c.sel, c.text], { timeout: c.timeout || T, polling: 50 });
      return null;
    }
    case "waitCount": {
      await page.waitForFunction(
        ([sel, n]) => document.querySelectorAll(sel).length === n,
        [c.sel, c.count], { timeout: c.timeout || T, polling: 50 });
      return c.count;
    }
    case "content": return await page.content();
    case "cookies": return await context.cookies();
    case "screenshot": await page.screenshot({ path: c.path, fullPage: !!c.fullPage }); return c.path;
    case "viewport": await page.setViewportSize({ width: c.width, height: c.height }); return null;
    case "clearCookies": await context.clearCookies(); return null;
    case "consoleErrors": return consoleErrors.splice(0);
    case "now": return await page.evaluate(() => Date.now());
    case "axe": {
      // axe-core beside playwright-core; evaluated through the protocol, so the page's CSP
      // (no inline script) stays in force for the page's own scripts.
      const source = readFileSync(join(pkg, "..", "axe-core", "axe.min.js"), "utf8");
      await page.evaluate(source);
      return await page.evaluate(async () => {
        const r = await window.axe.run(document, {
          runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
        });
        return r.violations.map((v) => ({
          id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
        }));
      });
    }
    case "colorScheme": await page.emulateMedia({ colorScheme: c.value }); return null;
    case "style": return await page.$eval(c.sel, (e, prop) => getComputedStyle(e).getPropertyValue(prop), c.name);
    case "grantClipboard": await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: c.origin }); return null;
    case "clipboard": return await page.evaluate(() => navigator.clipboard.readText());
    // As in a browser without the asynchronous clipboard (plain http to another host): this page only.
    case "dropClipboard": await page.evaluate(() => { Object.defineProperty(navigator, "clipboard", { value: undefined, configurable: true }); }); return null;
    case "selection": return await page.evaluate(() => String(window.getSelection()));
    default: throw new Error("unknown command " + c.op);
  }
}

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  let cmd;
  try { cmd = JSON.parse(line); } catch (e) { process.stdout.write(JSON.stringify({ ok: false, error: "bad JSON" }) + "\n"); continue; }
  if (cmd.op === "quit") break;
  try {
    const value = await run(cmd);
    process.stdout.write(JSON.stringify({ ok: true, value: value === undefined ? null : value }) + "\n");
  } catch (e) {
    process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.message || e) }) + "\n");
  }
}
await context.close();
rmSync(profile, { recursive: true, force: true });
process.exit(0);
