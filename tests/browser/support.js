// What the browser tests share: a `reel up` of their own (a temp data dir, a free loopback port;
// stopped, with its Redis, at the end), headless Chromium driven by puppeteer-core (site()), and
// the API calls a test makes to set things up (an admin token, an upload, waiting until ready).
// Run through CTest (tests/browser/CMakeLists.txt), which sets REEL_BINARY, CHROMIUM and
// NODE_PATH; a missing binary, browser or server fails the test, it never skips.
"use strict";

const { spawn, execFile } = require("node:child_process");
const fs = require("node:fs");
const net = require("node:net");
const os = require("node:os");
const path = require("node:path");

function load(module) {
  try {
    return require(module);
  } catch (error) {
    throw new Error(`${module} is not installed: the build installs it into BUILD/tests/browser/node_modules ` +
                    `(NODE_PATH); run the browser tests with ctest -L browser (${error.message})`);
  }
}
const puppeteer = load("puppeteer-core");

function setting(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the browser tests with ctest -L browser`);
  return value;
}

function executable(file, what, remedy) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch (error) {
    throw new Error(`${what} is missing: no executable ${file} (${remedy})`);
  }
  return file;
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls `check` (sync or async) until it returns something truthy, which is returned; throws
// naming `what` after `timeoutMs`.
async function waitFor(what, check, timeoutMs = 30000, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(intervalMs);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Runs `file` with `args` (and `input` on its stdin); resolves with its stdout.
function run(file, args, input = "") {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: 120000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${path.basename(file)} ${args.join(" ")}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin.end(input);
  });
}

// A short H.264/AAC clip made with ffmpeg: a test picture with a clock, a tone.
async function makeClip(file, { seconds, width, height }) {
  await run("ffmpeg", ["-nostdin", "-loglevel", "error", "-y",
    "-f", "lavfi", "-i", `testsrc2=size=${width}x${height}:rate=25`,
    "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
    "-t", String(seconds), "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
    "-c:a", "aac", "-b:a", "64k", "-shortest", "-movflags", "+faststart", file]);
  return file;
}

// `reel up` on a temp data dir and a free port, ready when /readyz answers 200.
class Reel {
  static async start() {
    const binary = executable(setting("REEL_BINARY"), "The reel binary", "build it first");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-browser-"));
    const reel = new Reel(binary, dir, await freePort());
    const log = fs.openSync(reel.logPath, "a");
    reel.child = spawn(binary, ["up", "--data-dir", reel.dataDir, "--listen", `127.0.0.1:${reel.port}`],
                       { stdio: ["ignore", log, log] });
    fs.closeSync(log);
    reel.child.on("exit", (code, signal) => { reel.exited = signal || `exit status ${code}`; });
    running.add(reel);
    await waitFor("reel up to answer /readyz", async () => {
      if (reel.exited) throw new Error(`reel up exited:\n${reel.log()}`);
      try {
        return (await fetch(reel.url("/readyz"))).status === 200;
      } catch (error) {
        return false;  // not listening yet
      }
    }, 150000, 200);
    return reel;
  }

  constructor(binary, dir, port) {
    this.binary = binary;
    this.dir = dir;
    this.dataDir = path.join(dir, "data");
    this.logPath = path.join(dir, "up.log");
    this.port = port;
    this.exited = false;
  }

  url(target) {
    return `http://127.0.0.1:${this.port}${target}`;
  }

  log() {
    try {
      return fs.readFileSync(this.logPath, "utf8");
    } catch (error) {
      return "";
    }
  }

  async adminToken() {
    return (await run(this.binary, ["admin", "token", "--data-dir", this.dataDir])).trim();
  }

  // An account made as an operator does (`reel admin create-user`, the password on stdin).
  async createUser(name, role, password) {
    await run(this.binary, ["admin", "create-user", "--name", name, "--email", `${name}@example.org`,
                            "--role", role, "--data-dir", this.dataDir], `${password}\n`);
  }

  async json(target) {
    const response = await fetch(this.url(target));
    return { status: response.status, body: await response.json().catch(() => null) };
  }

  // Uploads `file` through the API; the new video's id.
  async upload(file, token, fields) {
    const form = new FormData();
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    form.append("file", new Blob([fs.readFileSync(file)], { type: "video/mp4" }), path.basename(file));
    const response = await fetch(this.url("/api/v1/uploads"), {
      method: "POST", headers: { Authorization: `Bearer ${token}` }, body: form });
    const body = await response.text();
    if (response.status !== 201) throw new Error(`upload answered ${response.status}: ${body}`);
    return JSON.parse(body).id;
  }

  // The video's API document once it is ready; throws when it fails or takes too long.
  async waitReady(id, timeoutMs = 120000) {
    return waitFor(`video ${id} to be ready`, async () => {
      const { status, body } = await this.json(`/api/v1/videos/${id}`);
      if (status === 200 && body.status === "failed") throw new Error(`video ${id} failed: ${body.error}`);
      return status === 200 && body.status === "ready" && body.title ? body : null;
    }, timeoutMs, 250);
  }

  // SIGTERM (reel up drains and stops its Redis), SIGKILL after 30 s; then the data dir goes.
  async stop() {
    running.delete(this);
    if (this.exited) {
      process.stderr.write(`reel up ended (${this.exited}) before the end of the tests; its log:\n${this.log()}\n`);
    } else {
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill("SIGTERM");
      const stopped = await Promise.race([exited.then(() => true), delay(30000).then(() => false)]);
      if (!stopped) this.child.kill("SIGKILL");
    }
    killRedis(this.dataDir);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// The Redis child of a reel up that could not stop it itself.
function killRedis(dataDir) {
  try {
    process.kill(Number(fs.readFileSync(path.join(dataDir, "redis", "redis.pid"), "utf8")), "SIGTERM");
  } catch (error) {
    // gone already
  }
}

// Whatever a test run leaves when it ends early (an exception, a timeout): no server survives it.
const running = new Set();
process.on("exit", () => {
  for (const reel of running) {
    if (!reel.exited) reel.child.kill("SIGKILL");
    killRedis(reel.dataDir);
  }
});

// Debian's varnishd with the repository's VCL (deploy/varnish/reel.vcl) in front of `reel`, on a
// free port, ready when a page comes through; stop() ends it and removes its folder.
class Varnish {
  static async start(reel) {
    const binary = executable("/usr/sbin/varnishd", "varnishd", "scripts/deps installs varnish");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "reel-browser-varnish-"));
    fs.chmodSync(dir, 0o755);  // varnishd reads the VCL as its own unprivileged user
    fs.copyFileSync(path.join(__dirname, "../../deploy/varnish/reel.vcl"), path.join(dir, "reel.vcl"));
    fs.writeFileSync(path.join(dir, "backends.vcl"),
      `backend app1 { .host = "127.0.0.1"; .port = "${reel.port}"; ` +
      `.probe = { .url = "/readyz"; .interval = 1s; .timeout = 2s; .window = 3; .threshold = 1; } }\n` +
      `acl purgers { "127.0.0.1"; }\nsub vcl_init { app.add_backend(app1); }\n`);
    const varnish = new Varnish(dir, await freePort());
    const log = fs.openSync(path.join(dir, "varnish.log"), "a");
    varnish.child = spawn(binary, ["-F", "-n", path.join(dir, "work"), "-a", `127.0.0.1:${varnish.port}`,
                                   "-f", path.join(dir, "reel.vcl"), "-p", `vcl_path=${dir}`, "-s", "malloc,64m"],
                          { stdio: ["ignore", log, log] });
    fs.closeSync(log);
    varnish.child.on("exit", (code, signal) => { varnish.exited = signal || `exit status ${code}`; });
    runningVarnish.add(varnish);
    await waitFor("Varnish to pass a page", async () => {
      if (varnish.exited) throw new Error(`varnishd exited:\n${fs.readFileSync(path.join(dir, "varnish.log"), "utf8")}`);
      try {
        return (await fetch(varnish.url("/"))).status === 200;
      } catch (error) {
        return false;
      }
    }, 60000, 200);
    return varnish;
  }

  constructor(dir, port) {
    this.dir = dir;
    this.port = port;
    this.exited = false;
  }

  url(target) {
    return `http://127.0.0.1:${this.port}${target}`;
  }

  async stop() {
    runningVarnish.delete(this);
    if (!this.exited) {
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill("SIGTERM");
      await Promise.race([exited, delay(30000)]);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

const runningVarnish = new Set();
process.on("exit", () => {
  for (const varnish of runningVarnish) if (!varnish.exited) varnish.child.kill("SIGKILL");
});

// Headless Chromium (Debian's) that plays media without a user gesture and makes no sound.
async function launchBrowser() {
  const chromium = executable(process.env.CHROMIUM || "/usr/bin/chromium", "Chromium", "scripts/deps installs it");
  return puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ["--no-sandbox", "--autoplay-policy=no-user-gesture-required", "--mute-audio",
           "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking"],
  });
}

// A test file's `reel up` and browser: started before its tests, then `setup(reel)` (what the file
// needs besides, in the same hook: node:test does not wait for one root hook before the next);
// stopped after them. page() opens a page that records its requests ({method, url} in order, as
// page.requests).
function site(setup) {
  const { before, after } = require("node:test");
  const ctx = {
    reel: null,
    browser: null,
    async page(viewport = { width: 1280, height: 900 }) {
      const page = await ctx.browser.newPage();
      await page.setViewport(viewport);
      page.requests = [];
      page.on("request", (request) => page.requests.push({ method: request.method(), url: request.url() }));
      return page;
    },
  };
  before(async () => {
    ctx.browser = await launchBrowser();
    ctx.reel = await Reel.start();
    if (setup) await setup(ctx.reel);
  });
  after(async () => {
    if (ctx.browser) await ctx.browser.close();
    if (ctx.reel) await ctx.reel.stop();
  });
  return ctx;
}

module.exports = { Reel, Varnish, launchBrowser, makeClip, site, waitFor };
