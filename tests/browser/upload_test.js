// The upload page in headless Chromium, against a `reel up` of this file's own, signed in as an
// account with the uploader role: reached from the header, it shows the server's error for a
// refused upload, uploads a clip with the progress bar going to 100% and follows its processing to
// a link to the watch page, posts itself as a plain form when JavaScript is off, and sends a big
// file through the resumable API in pieces, getting over a dropped piece.
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { makeClip, site, waitFor } = require("./support.js");

const uploader = `up${process.pid % 100000}`;
const password = "correct horse battery";
let reel, clip;
const web = site(async (server) => {
  reel = server;
  clip = await makeClip(path.join(reel.dir, "my_holiday.mp4"), { seconds: 3, width: 320, height: 180 });
  await reel.createUser(uploader, "uploader", password);
});

// The upload page, reached as the uploader does: signed in, the header's link from the home page.
async function uploadPage() {
  const page = await web.page({ width: 1000, height: 900 });
  await page.goto(reel.url("/signin"), { waitUntil: "load" });
  await page.type("#signin-username", uploader);
  await page.type("#signin-password", password);
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(".account-form button[type=submit]")]);
  await page.goto(reel.url("/"), { waitUntil: "load" });
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(".site-header__upload")]);
  assert.equal(new URL(page.url()).pathname, "/upload");
  // Every text the status lines take, in order, so a state shown only briefly is seen too.
  await page.evaluate(() => {
    window.seen = [];
    const status = document.querySelector(".upload-status");
    new MutationObserver(() => {
      const state = status.querySelector(".upload-status__processing").hidden ? "" : status.querySelector(".upload-status__state").textContent;
      const entry = status.querySelector(".upload-status__upload").value + "|" + state;
      if (window.seen[window.seen.length - 1] !== entry) window.seen.push(entry);
    }).observe(status, { subtree: true, childList: true, attributes: true, characterData: true });
  });
  return page;
}

async function fill(page, { title }) {
  await (await page.$("#upload-file")).uploadFile(clip);
  await page.$eval("#upload-title", (input) => { input.value = ""; });
  await page.type("#upload-title", title);
  await page.type("#upload-tags", "browser upload");
  await page.select("#upload-category", "music");
}

// Waits for the watch link and returns the video's id from it.
async function readyVideo(page) {
  await page.waitForSelector(".upload-status__ready:not([hidden])", { timeout: 120000 });
  const href = await page.$eval(".upload-status__watch", (a) => a.getAttribute("href"));
  assert.match(href, /^\/watch\/\d+-/);
  return Number(href.match(/^\/watch\/(\d+)/)[1]);
}

test("a refused upload gets the server's error", async () => {
  const page = await uploadPage();
  assert.ok(await page.$$eval("#upload-category option", (o) => o.some((x) => x.value === "music")), "categories from the nav");
  await fill(page, { title: "Refused" });
  await page.$eval(".upload-form input[name=csrf]", (input) => { input.value = "not-the-token"; });
  await page.click(".upload-form__submit");
  await page.waitForSelector(".upload-status__error:not([hidden])", { timeout: 20000 });
  assert.equal(await page.$eval(".upload-status__error", (e) => e.textContent),
               "The request is missing its CSRF token or carries a wrong one.");
  assert.ok(await page.$eval(".upload-status__processing", (e) => e.hidden), "no processing state");
  assert.equal(await page.$eval(".upload-form__submit", (b) => b.disabled), false, "the form can be sent again");
  await page.close();
});

test("an upload shows its progress, then its processing, then links to the video", async () => {
  const page = await uploadPage();
  await fill(page, { title: "Sent from the browser" });
  await page.click(".upload-form__submit");
  const id = await readyVideo(page);
  const seen = await page.evaluate(() => window.seen);
  assert.equal(await page.$eval(".upload-status__upload", (p) => p.value), 100);
  assert.equal(await page.$eval(".upload-status__sent", (p) => p.textContent), "100%");
  assert.ok(seen.some((entry) => /^100\|(Waiting to be processed|Processing)$/.test(entry)),
            `the processing state was shown: ${JSON.stringify(seen)}`);
  assert.equal(seen[seen.length - 1], "100|Ready");
  assert.equal(await page.$eval(".upload-status__process", (p) => p.value), 100);
  const posts = page.requests.filter((r) => r.method === "POST" && r.url.endsWith("/api/v1/uploads"));
  assert.equal(posts.length, 1, "one POST of the whole file");
  const doc = await reel.json(`/api/v1/videos/${id}`);
  assert.equal(doc.body.title, "Sent from the browser");
  assert.deepEqual(doc.body.tags, ["browser", "upload"]);
  assert.deepEqual(doc.body.categories.map((c) => c.slug), ["music"]);
  assert.equal(doc.body.channel.name, uploader, "on the uploader's own channel");
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(".upload-status__watch")]);
  assert.equal(await page.$eval(".watch__title", (h) => h.textContent), "Sent from the browser");
  await page.close();
});

test("without JavaScript the form posts itself and lands on the uploader's channel", async () => {
  const page = await web.page();
  await page.setJavaScriptEnabled(false);
  await page.goto(reel.url("/signin"), { waitUntil: "load" });
  await page.type("#signin-username", uploader);
  await page.type("#signin-password", password);
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(".account-form button[type=submit]")]);
  await page.goto(reel.url("/upload"), { waitUntil: "load" });
  await fill(page, { title: "Sent by a plain form" });
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(".upload-form__submit")]);
  assert.equal(new URL(page.url()).pathname, `/channel/${uploader}`);
  await page.close();
});

test("a big file goes in pieces through the resumable API and survives a dropped piece", async () => {
  const page = await uploadPage();
  // Pieces of 64 KiB from the first byte on, so this small clip takes the big files' way.
  await page.$eval(".upload-form", (form) => {
    form.setAttribute("data-resumable-above", "0");
    form.setAttribute("data-chunk-bytes", "65536");
  });
  await page.setRequestInterception(true);
  let patches = 0;
  page.on("request", (request) => {
    if (request.method() === "PATCH" && ++patches === 2) request.abort("connectionreset");  // the second piece is lost
    else request.continue();
  });
  await fill(page, { title: "Sent in pieces" });
  await page.click(".upload-form__submit");
  const id = await readyVideo(page);
  const size = require("node:fs").statSync(clip).size;
  const pieces = Math.ceil(size / 65536);
  assert.ok(pieces >= 2, `the clip needs pieces: ${size} bytes`);
  const made = page.requests.filter((r) => r.method === "POST" && r.url.endsWith("/api/v1/uploads/resumable"));
  assert.equal(made.length, 1, "one session");
  assert.equal(patches, pieces + 1, "every piece once, the lost one twice");
  const asked = page.requests.filter((r) => r.method === "GET" && /\/api\/v1\/uploads\/resumable\/[^/]+$/.test(r.url));
  assert.equal(asked.length, 1, "the offset asked once, after the lost piece");
  assert.equal(await page.$eval(".upload-status__upload", (p) => p.value), 100);
  const doc = await reel.json(`/api/v1/videos/${id}`);
  assert.equal(doc.body.title, "Sent in pieces");
  assert.equal(doc.body.duration, 3, "every byte in order");
  await waitFor("the session to be forgotten", () => page.evaluate(() => !Object.keys(localStorage).some((k) => k.startsWith("reel.upload:"))), 5000);
  await page.close();
});
