// tests/browser/test_web.mjs: the web client served by the real parleyd,
// in Debian's headless Chromium driven by playwright-core, against a plain
// TCP client (a real socket, as nc would be), over http and over https
// (a self-signed certificate made here; the browser ignores that it is
// not trusted). Screenshots go to $PARLEY_BUILD/browser/. Prints
// "browser: N passed, N failed".
import { chromium } from "playwright-core";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const build = process.env.PARLEY_BUILD || "build";
const shots = path.join(build, "browser");
const WAIT = 15000;
let passed = 0;
let failed = 0;
let server = null;
let context = null;

// A self-signed certificate for 127.0.0.1 in dir: [cert, key].
function makeCert(dir) {
  const cert = path.join(dir, "cert.pem");
  const key = path.join(dir, "key.pem");
  const r = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt",
    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
  { stdio: ["ignore", "ignore", "pipe"], timeout: WAIT });
  if (r.status !== 0) throw new Error("openssl req failed: " + r.stderr);
  return [cert, key];
}

function startServer(cert, key) {
  return new Promise((resolve, reject) => {
    const p = spawn(path.join(build, "parleyd"),
      ["--listen", "127.0.0.1:0", "--http-listen", "127.0.0.1:0", "--history", "20",
        "--tls-cert", cert, "--tls-key", key, "--listen-tls", "none",
        "--https-listen", "127.0.0.1:0", "--db", "none",
        "--irc-listen", "none", "--irc-listen-tls", "none"],
      { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    const timer = setTimeout(() => reject(new Error("parleyd did not start: " + log)), WAIT);
    p.stderr.on("data", (d) => {
      log += d;
      const plain = /listening on 127\.0\.0\.1:(\d+)\n/.exec(log);
      const http = /listening on 127\.0\.0\.1:(\d+) \(http:/.exec(log);
      const https = /listening on 127\.0\.0\.1:(\d+) \(https:/.exec(log);
      if (plain && http && https && !p.ports) {
        p.ports = { plain: +plain[1], http: +http[1], https: +https[1] };
        clearTimeout(timer);
        resolve(p);
      }
    });
    p.on("exit", () => reject(new Error("parleyd exited: " + log)));
  });
}

// A line client on a real TCP socket.
class Plain {
  constructor(port) {
    this.lines = [];
    this.buf = "";
    this.waiters = [];
    this.sock = net.connect(port, "127.0.0.1");
    this.sock.setEncoding("utf8");
    this.sock.on("data", (d) => {
      this.buf += d;
      let i;
      while ((i = this.buf.indexOf("\n")) >= 0) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 1);
      }
      this.waiters.forEach((w) => w());
    });
  }
  send(s) { this.sock.write(s + "\n"); }
  expect(substr) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nc never saw "${substr}": ${this.lines.join(" | ")}`)), WAIT);
      const look = () => {
        const i = this.lines.findIndex((l) => l.includes(substr));
        if (i < 0) return;
        const l = this.lines[i];
        this.lines.splice(0, i + 1);
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== look);
        resolve(l);
      };
      this.waiters.push(look);
      look();
    });
  }
  close() { this.sock.destroy(); }
}

async function run(name, fn) {
  try {
    await fn();
    passed++;
    console.log("ok   " + name);
  } catch (e) {
    failed++;
    console.log("FAIL " + name);
    console.log("  " + String(e && e.stack || e).split("\n").slice(0, 4).join("\n  "));
  }
}

function check(cond, what) {
  if (!cond) throw new Error("check failed: " + what);
}

async function openClient(nick, viewport, url) {
  const page = await context.newPage();
  if (viewport) await page.setViewportSize(viewport);
  page.errors = [];
  page.sockets = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") page.errors.push(m.text()); });
  page.on("websocket", (ws) => page.sockets.push(ws.url()));
  await page.goto(url || `http://127.0.0.1:${server.ports.http}/`);
  await page.fill("#nick", nick);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#chat:not([hidden])", { timeout: WAIT });
  await page.waitForFunction(() => document.querySelector("#title").textContent === "#lobby",
    null, { timeout: WAIT });
  return page;
}

// The visible view's line whose text is exactly text.
function lineWithText(page, text) {
  return page.waitForFunction((t) => [...document.querySelectorAll(".view:not([hidden]) .line .text")]
    .some((e) => e.textContent === t), text, { timeout: WAIT });
}

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "parley-chromium-"));
  const certDir = fs.mkdtempSync(path.join(os.tmpdir(), "parley-cert-"));
  server = await startServer(...makeCert(certDir));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    ignoreHTTPSErrors: true, // the https row's self-signed certificate
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1100, height: 640 },
  });
  try {
    await tests();
  } finally {
    await context.close();
    server.kill("SIGTERM");
    fs.rmSync(profile, { recursive: true, force: true });
    fs.rmSync(certDir, { recursive: true, force: true });
  }
}

async function tests() {
  let page;
  const nc = new Plain(server.ports.plain);
  await nc.expect("-!- welcome to parley, ");

  await run("test_browser_user_and_nc_user_talk_in_a_room", async () => {
    nc.send("/nick bob");
    await nc.expect("is now known as bob");
    nc.send("/join #garden");
    await nc.expect("-!- bob joined #garden");
    nc.send("/topic #garden tomatoes, beans and everything green");
    nc.send("the beans are up!");
    nc.send("/me waters the tomatoes");
    page = await openClient("alice");
    await page.keyboard.press("Alt+J");
    await page.keyboard.type("#garden");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector("#title").textContent === "#garden",
      null, { timeout: WAIT });
    await nc.expect("-!- alice joined #garden");
    // History on join, and the topic.
    await lineWithText(page, "the beans are up!");
    await page.waitForFunction(() => document.querySelector("#topic").textContent.includes("beans"),
      null, { timeout: WAIT });
    await page.waitForFunction(() => [...document.querySelectorAll("#members button")]
      .map((b) => b.textContent).join(",") === "alice,bob", null, { timeout: WAIT });
    await page.keyboard.type("hello from chromium");
    await page.keyboard.press("Enter");
    const got = await nc.expect("hello from chromium");
    check(got === "#garden <alice> hello from chromium", got);
    nc.send("hi alice, welcome to the garden");
    await lineWithText(page, "hi alice, welcome to the garden");
    const who = await page.evaluate(() => [...document.querySelectorAll(".view:not([hidden]) .line")]
      .pop().querySelector(".who").textContent);
    check(who === "bob", "the line is bob's: " + who);
    nc.send("/msg alice psst, the shed key is under the pot");
    await page.waitForSelector("#rooms .unread", { timeout: WAIT });
    await page.keyboard.type("/me picks a tomato");
    await page.keyboard.press("Enter");
    check((await nc.expect("picks a tomato")) === "#garden * alice picks a tomato", "action");
    await page.screenshot({ path: path.join(shots, "web-client.png") });
    check(page.errors.length === 0, "no errors in the page: " + page.errors.join("; "));
  });

  await run("test_markup_from_a_user_shows_as_text", async () => {
    const evil = '<img src=x onerror="window.pwned=1"><b>bold</b><script>window.pwned=2</script>';
    nc.send(evil);
    await lineWithText(page, evil);
    const found = await page.evaluate(() => ({
      elements: document.querySelectorAll("#log img, #log b, #log script").length,
      pwned: window.pwned === undefined ? 0 : window.pwned,
    }));
    check(found.elements === 0, "markup became elements: " + found.elements);
    check(found.pwned === 0, "script ran: " + found.pwned);
  });

  await run("test_private_messages_open_their_own_view", async () => {
    await page.keyboard.press("Alt+ArrowDown");
    await page.waitForFunction(() => document.querySelector("#title").textContent === "with bob",
      null, { timeout: WAIT });
    await lineWithText(page, "psst, the shed key is under the pot");
    await page.keyboard.type("thanks!");
    await page.keyboard.press("Enter");
    check((await nc.expect("thanks!")) === "*alice* thanks!", "private message");
    await lineWithText(page, "thanks!");
  });

  await run("test_phone_sized_screen_shows_the_log_and_a_rooms_button", async () => {
    const phone = await openClient("carol", { width: 390, height: 700 });
    check(await phone.isVisible("#menu"), "rooms button on a phone");
    check(!(await phone.isVisible("#side")), "room list folded away");
    await phone.click("#menu");
    check(await phone.isVisible("#side"), "room list opens");
    await phone.keyboard.press("Escape");
    check(!(await phone.isVisible("#side")), "Escape closes it");
    await phone.screenshot({ path: path.join(shots, "web-client-phone.png") });
    await phone.close();
  });

  await run("test_lost_connection_reconnects_with_the_same_nick_and_rooms", async () => {
    // End alice's session process: her connection is lost.
    const pid = await findSessionOf();
    process.kill(pid, "SIGKILL");
    await nc.expect("-!- alice quit (connection lost)");
    await nc.expect("-!- alice joined #garden");
    await page.waitForFunction(() => document.querySelector("#status").textContent === "",
      null, { timeout: WAIT * 2 });
  });
  await run("test_the_page_over_https_talks_over_wss_on_its_own_port", async () => {
    const port = server.ports.https;
    const secure = await openClient("dave", null, `https://127.0.0.1:${port}/`);
    check(secure.sockets.length > 0 && secure.sockets.every((u) => u === `wss://127.0.0.1:${port}/ws`),
      "its WebSocket: " + secure.sockets.join(", "));
    await nc.expect("is now known as dave");
    await secure.keyboard.type("hello over wss");
    await secure.keyboard.press("Enter");
    check((await nc.expect("hello over wss")) === "#lobby <dave> hello over wss", "message");
    nc.send("/join #lobby");
    nc.send("hi dave");
    await lineWithText(secure, "hi dave");
    check(secure.errors.length === 0, "no errors in the page: " + secure.errors.join("; "));
    await secure.close();
  });
  nc.close();
}

// The session process that owns the one WebSocket connection open on the
// HTTP port (the pages' other connections are closed after each answer).
async function findSessionOf() {
  const hex = server.ports.http.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set();
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    for (const row of fs.readFileSync(f, "utf8").split("\n").slice(1)) {
      const c = row.trim().split(/\s+/);
      if (c.length > 9 && c[1].endsWith(":" + hex) && c[3] === "01") inodes.add(c[9]);
    }
  }
  const kids = fs.readFileSync(`/proc/${server.pid}/task/${server.pid}/children`, "utf8")
    .trim().split(/\s+/).map(Number);
  for (const k of kids) {
    for (const fd of fs.readdirSync(`/proc/${k}/fd`)) {
      let target = "";
      try { target = fs.readlinkSync(`/proc/${k}/fd/${fd}`); } catch { continue; }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1])) return k;
    }
  }
  throw new Error("no session process holds a WebSocket");
}

main().catch((e) => { failed++; console.log("FAIL setup: " + (e && e.stack || e)); })
  .finally(() => {
    console.log(`browser: ${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  });
