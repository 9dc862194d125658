// People in headless Chromium, against a `reel up` of this file's own: registering and signing in
// through the plain forms, the watch page's like and favorite buttons answered without a page load
// (static/js/people.js), and text typed by an attacker — a display name and a comment carrying
// script — shown as text, with no script running.
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const { site, waitFor } = require("./support.js");

const web = site();
let serial = 0;

function freshName() {
  serial += 1;
  return `br${process.pid % 100000}x${serial}`;
}

// Registers and signs in `name` through the pages, as a person would; returns the page.
async function signedInPage(name) {
  const page = await web.page();
  await page.goto(web.reel.url("/register"), { waitUntil: "load" });
  await page.type("#register-username", name);
  await page.type("#register-email", `${name}@example.org`);
  await page.type("#register-password", "correct horse battery");
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(".account-form button[type=submit]")]);
  const bar = await page.$eval(".user-bar", (element) => element.getAttribute("data-user"));
  assert.equal(bar, name, "the register form signs the new user in");
  return page;
}

test("signing out and in again through the forms, without JavaScript's help", async () => {
  const name = freshName();
  const page = await signedInPage(name);
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.$eval(".user-menu form", (form) => form.submit())]);
  assert.equal(await page.$(".user-bar__signin") !== null, true, "signed out");
  await page.goto(web.reel.url("/signin"), { waitUntil: "load" });
  await page.type("#signin-username", name);
  await page.type("#signin-password", "wrong password");
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(".account-form button[type=submit]")]);
  assert.match(await page.$eval(".notice--error", (note) => note.textContent), /wrong username or password/);
  await page.type("#signin-username", name);
  await page.type("#signin-password", "correct horse battery");
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(".account-form button[type=submit]")]);
  assert.equal(await page.$eval(".user-bar", (element) => element.getAttribute("data-user")), name);
});

test("like and favorite answer in place, without a page load", async () => {
  const page = await signedInPage(freshName());
  await page.goto(web.reel.url("/watch/1"), { waitUntil: "load" });
  let navigated = false;
  page.on("framenavigated", () => { navigated = true; });
  const before = await page.$eval(".votes__likes", (element) => element.textContent);
  await page.click(".vote--up");
  await waitFor("the like to show", async () =>
    (await page.$eval(".vote--up", (button) => button.getAttribute("aria-pressed"))) === "true");
  assert.notEqual(await page.$eval(".votes__likes", (element) => element.textContent), before, "the count moved");
  await page.click(".favorite");
  await waitFor("the favorite to show", async () =>
    (await page.$eval(".favorite", (button) => button.textContent)) === "Favorited");
  assert.equal(navigated, false, "no page load");
  // The page, loaded again, agrees with what the buttons showed.
  await page.reload({ waitUntil: "load" });
  assert.equal(await page.$eval(".vote--up", (button) => button.getAttribute("aria-pressed")), "true");
  assert.equal(await page.$eval(".favorite", (button) => button.textContent), "Favorited");
});

test("script typed into a display name and a comment is shown as text and never runs", async () => {
  const page = await signedInPage(freshName());
  await page.evaluateOnNewDocument(() => { window.__pwned = 0; });
  const payload = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>"'&`;
  await page.goto(web.reel.url("/account"), { waitUntil: "load" });
  await page.$eval("#account-display", (input) => { input.value = ""; });
  await page.type("#account-display", payload.slice(0, 60));
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.$eval("#account-display", (input) => input.form.submit())]);
  await page.goto(web.reel.url("/watch/1"), { waitUntil: "load" });
  await page.type("#comment-body", payload);
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.$eval("#comment-body", (area) => area.form.submit())]);
  const shown = await page.$$eval(".comment__body", (bodies) => bodies.map((body) => body.textContent));
  assert.ok(shown.includes(payload), "the comment reads exactly as typed");
  assert.equal(await page.$eval(".user-menu summary", (summary) => summary.textContent), payload.slice(0, 60));
  assert.equal(await page.evaluate(() => window.__pwned), 0, "no script ran");
  assert.equal(await page.$(".comment__body img"), null, "no element came from the text");
});
