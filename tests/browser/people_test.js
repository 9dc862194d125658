// People in headless Chromium, against a `reel up` of this file's own: registering and signing in
// through the plain forms, the watch page's like and favorite buttons answered without a page load
// (static/js/people.js), and text typed by an attacker — a display name and a comment carrying
// script — shown as text, with no script running; subscribing and saving to a playlist in place,
// and a playlist (titled with script) shown on its pages and played in order.
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

test("subscribe and save to a playlist in place; a playlist titled with script is text on every page and plays in order", async () => {
  const page = await signedInPage(freshName());
  await page.evaluateOnNewDocument(() => { window.__pwned = 0; });
  const payload = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>"'&`;
  await page.goto(web.reel.url("/watch/1"), { waitUntil: "load" });
  let navigated = false;
  const onNavigation = () => { navigated = true; };
  page.on("framenavigated", onNavigation);
  await page.click(".subscribe");
  await waitFor("the subscription to show", async () =>
    (await page.$eval(".subscribe", (button) => button.textContent)) === "Subscribed");
  assert.equal(navigated, false, "no page load");
  page.off("framenavigated", onNavigation);

  // A new playlist through the plain form of the menu; then the video saved to it by its button.
  await page.click(".playlist-menu summary");
  await page.type(".playlist-new input[name=title]", payload);
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(".playlist-new button")]);
  await page.goto(web.reel.url("/watch/2"), { waitUntil: "load" });
  await page.click(".playlist-menu summary");
  const saved = await page.$$eval(".playlist-form button", (buttons) => buttons.map((button) => button.textContent));
  assert.deepEqual(saved, [payload], "the menu lists the playlist by its title, as text");
  await page.click(".playlist-form button");
  await waitFor("the save to show", async () =>
    (await page.$eval(".playlist-form button", (button) => button.getAttribute("aria-pressed"))) === "true");

  await page.goto(web.reel.url("/me/playlists"), { waitUntil: "load" });
  assert.equal(await page.$eval(".playlists__item a", (link) => link.textContent), payload);
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(".playlists__item a")]);
  assert.equal(await page.$eval("h1", (heading) => heading.textContent), payload);
  const order = await page.$$eval(".collection-item .card__title a", (links) => links.map((link) => link.getAttribute("href")));
  assert.equal(order.length, 2);
  assert.match(order[0], /^\/watch\/1(-|$)/, "the first video saved comes first");
  // A watch page of the playlist autoplays (12 s clips); each is held still while it is looked at.
  const pause = () => page.$eval("video", (video) => video.pause());
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(".listing-head .button")]);
  await pause();
  assert.match(new URL(page.url()).search, /^\?list=\d+&index=1$/, "Play all starts at the first position");
  assert.equal(await page.$eval(".playlist-panel h2 a", (link) => link.textContent), payload);
  assert.equal(await page.$eval(".playlist-panel__current .playlist-panel__index", (index) => index.textContent), "1");
  assert.match(await page.$eval("video", (video) => video.getAttribute("data-next")), /\/play\?index=2$/);
  // The end of the video goes on to the next position.
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }),
    page.$eval("video", (video) => video.dispatchEvent(new Event("ended")))]);
  await pause();
  assert.match(new URL(page.url()).pathname, /^\/watch\/2(-|$)/, "next is the second video");
  assert.equal(await page.$eval(".playlist-panel__current .playlist-panel__index", (index) => index.textContent), "2");
  assert.equal(await page.$eval("video", (video) => video.getAttribute("data-next")), null, "the last position");

  await page.goto(web.reel.url("/subscriptions"), { waitUntil: "load" });
  assert.ok((await page.$$(".followed__list li")).length === 1, "the channel followed");
  assert.equal(await page.evaluate(() => window.__pwned), 0, "no script ran");
  assert.equal(await page.$("h1 img, .playlist-panel img[src=x]"), null, "no element came from the title");
});
