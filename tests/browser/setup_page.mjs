// The owner's page in a real browser (Debian's Chromium, headless), as a phone and as
// a desktop: console errors, the servers the page shows, the QR code as pixels, an
// accessibility check (axe-core), and screenshots. Driven by tests/api/owner_page.rs,
// which judges what this prints (one JSON object on stdout).
//
// Usage: node setup_page.mjs URL SCREENSHOT_PREFIX
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const [url, prefix] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
const result = {};
try {
  for (const [name, viewport] of [["phone", { width: 390, height: 844 }], ["desktop", { width: 1280, height: 900 }]]) {
    const page = await browser.newPage({ viewport });
    const problems = [];
    page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`); });
    page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
    page.on("requestfailed", (r) => problems.push(`requestfailed: ${r.url()}`));
    const response = await page.goto(url, { waitUntil: "load" });
    const rows = await page.$$eval("table.servers tbody tr", (trs) => trs.map((tr) => ({
      protocol: tr.dataset.protocol, host: tr.dataset.host, port: Number(tr.dataset.port),
      security: tr.dataset.security, recommended: tr.dataset.recommended === "true",
      visibleText: tr.innerText,
    })));
    const username = await page.$eval("#username", (e) => e.textContent);
    const copyButtonsShown = await page.$$eval("button.copy", (bs) => bs.filter((b) => !b.hidden).length);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    // axe runs through the DevTools protocol, which the page's CSP does not govern.
    await page.evaluate(axeSource);
    const axe = await page.evaluate(async () => {
      const r = await window.axe.run(document, { resultTypes: ["violations"] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
    });
    await page.screenshot({ path: `${prefix}-${name}.png`, fullPage: true });
    const qr = await page.$(".qr-code svg");
    if (qr) await qr.screenshot({ path: `${prefix}-${name}-qr.png` });
    result[name] = {
      status: response.status(), csp: response.headers()["content-security-policy"] || null,
      problems, rows, username, copyButtonsShown, overflow, axe,
      lang: await page.getAttribute("html", "lang"),
    };
    await page.close();
  }
  // Printing hides what only works on a screen.
  const page = await browser.newPage();
  await page.goto(url);
  await page.emulateMedia({ media: "print" });
  result.print = { copyButtonsVisible: await page.$$eval("button.copy", (bs) => bs.filter((b) => b.offsetParent !== null).length) };
  await page.close();
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(result));
