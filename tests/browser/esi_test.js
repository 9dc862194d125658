// The watch page behind Varnish (deploy/varnish/reel.vcl, ESI) in headless Chromium: the page is
// everybody's and carries no viewer's comment forms, so static/js/people.js adds them for a
// signed-in viewer from their user bar — a reply form under each comment, edit and delete on their
// own — and those forms work.
"use strict";

const { test, after } = require("node:test");
const assert = require("node:assert/strict");
const { Varnish, site, waitFor } = require("./support.js");

let varnish = null;
const web = site(async (reel) => { varnish = await Varnish.start(reel); });
after(async () => { if (varnish) await varnish.stop(); });

test("a signed-in viewer gets their comment forms on the shared watch page", async () => {
  const name = `esi${process.pid % 100000}`;
  const page = await web.page();
  await page.goto(varnish.url("/register"), { waitUntil: "load" });
  await page.type("#register-username", name);
  await page.type("#register-email", `${name}@example.org`);
  await page.type("#register-password", "correct horse battery");
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.click(".account-form button[type=submit]")]);
  assert.equal(await page.$eval(".user-bar", (bar) => bar.getAttribute("data-user")), name);

  // A comment of theirs, made before anyone asked Varnish for the watch page.
  const posted = await page.evaluate(async () => {
    const csrf = document.querySelector(".user-bar").dataset.csrf;
    const response = await fetch("/api/v1/videos/1/comments", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ body: "mine, <b>not bold</b>" }) });
    return { status: response.status, body: await response.json() };
  });
  assert.equal(posted.status, 201, JSON.stringify(posted.body));
  const mine = posted.body.id;

  await page.goto(varnish.url("/watch/1"), { waitUntil: "load" });
  const cookies = (await page.cookies()).map((cookie) => `${cookie.name}=${cookie.value}`).join("; ");
  const served = await (await fetch(varnish.url("/watch/1"), { headers: { Cookie: cookies } })).text();
  assert.ok(served.includes(`data-user="${name}"`), "Varnish assembled their user bar");
  assert.ok(!served.includes("esi:include"), "and every fragment");
  assert.ok(!served.includes("comment__own") && !served.includes("comment__reply"), "the page itself has no forms");

  const own = `#comment-${mine} .comment__own`;
  await waitFor("their edit and delete forms", () => page.$(own));
  assert.equal(await page.$eval(`${own} textarea`, (area) => area.value), "mine, <b>not bold</b>", "the text, as text");
  assert.ok(await page.$(`#comment-${mine} > .comment__reply`), "a reply form");

  // The reply form the script made works as the page's own would: a plain POST, then back.
  await page.$eval(`#comment-${mine} > .comment__reply`, (details) => { details.open = true; });
  await page.type(`#comment-${mine} > .comment__reply textarea`, "a reply through the added form");
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }),
                     page.click(`#comment-${mine} > .comment__reply button[type=submit]`)]);
  const replies = await web.reel.json(`/api/v1/videos/1/comments?parent=${mine}`);
  assert.equal(replies.status, 200);
  assert.deepEqual(replies.body.comments.map((reply) => reply.body), ["a reply through the added form"]);

  // Nobody else gets them.
  const anonymous = await web.browser.createBrowserContext();
  const stranger = await anonymous.newPage();
  await stranger.goto(varnish.url("/watch/1"), { waitUntil: "load" });
  assert.equal(await stranger.$(".comment__own, .comment__reply"), null);
  await anonymous.close();
});
