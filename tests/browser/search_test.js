// Search in headless Chromium, against a `reel up` of this file's own (the demo catalog): the
// header's search box completes as the visitor types (static/js/search.js) and is driven by the
// keyboard alone — Down to an option, Enter to search for it — and the results page marks the
// matched words of each title; a query carrying script is shown as text and never runs.
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const { site, waitFor } = require("./support.js");

const web = site();

// A word of a listed video's title, lower-case, and the video's id.
async function titleWord() {
  const listing = await (await fetch(web.reel.url("/api/v1/videos?sort=newest"))).json();
  const video = listing.videos.find((card) => /^[A-Za-z]{5,}/.test(card.title));
  assert.ok(video, "the demo catalog has a title starting with a plain word");
  return { word: video.title.match(/^[A-Za-z]+/)[0].toLowerCase(), id: video.id };
}

test("the search box completes a title word and searches for it with the keyboard alone", async () => {
  const { word } = await titleWord();
  const prefix = word.slice(0, 3);
  // The suggester's snapshot is refreshed in the background: wait until it knows the catalog.
  await waitFor(`completions for "${prefix}"`, async () => {
    const answer = await (await fetch(web.reel.url(`/api/v1/suggest?q=${prefix}`))).json();
    return answer.suggestions.includes(word);
  }, 120000, 500);

  const page = await web.page();
  await page.goto(web.reel.url("/"), { waitUntil: "load" });
  await page.focus(".site-search__input");
  await page.keyboard.type(prefix);
  await waitFor("the suggestion list to open", async () =>
    (await page.$eval(".site-search__input", (input) => input.getAttribute("aria-expanded"))) === "true");
  const options = await page.$$eval(".site-search__list [role=option]", (items) => items.map((item) => item.textContent));
  const position = options.indexOf(word);
  assert.ok(position >= 0, `"${word}" is offered among ${JSON.stringify(options)}`);
  for (let i = 0; i <= position; i += 1) await page.keyboard.press("ArrowDown");
  const active = await page.$eval(".site-search__input", (input) => input.getAttribute("aria-activedescendant"));
  assert.equal(await page.$eval(`#${active}`, (item) => item.textContent), word, "Down reaches the option");
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.keyboard.press("Enter")]);

  const url = new URL(page.url());
  assert.equal(url.pathname, "/search");
  assert.equal(url.searchParams.get("q"), word);
  const marked = await page.$$eval(".card__title mark", (marks) => marks.map((mark) => mark.textContent.toLowerCase()));
  assert.ok(marked.length > 0 && marked.every((text) => text === word), `titles mark "${word}": ${JSON.stringify(marked)}`);
  assert.equal(await page.$eval(".search-form input[name=q]", (input) => input.value), word, "the form keeps the query");
  // Each result is a whole card, its marked title inside it.
  assert.equal(await page.$$eval(".grid > .card", (cards) => cards.length),
               await page.$$eval(".grid .card__title", (titles) => titles.length));
});

test("Escape closes the list and the typed text is searched as it is", async () => {
  const { word } = await titleWord();
  const page = await web.page();
  await page.goto(web.reel.url("/videos"), { waitUntil: "load" });
  await page.focus(".site-search__input");
  await page.keyboard.type(word.slice(0, 3));
  await waitFor("the suggestion list to open", async () =>
    (await page.$eval(".site-search__input", (input) => input.getAttribute("aria-expanded"))) === "true");
  await page.keyboard.press("Escape");
  assert.equal(await page.$eval(".site-search__list", (list) => list.hidden), true);
  // Typing on may open the list again; with no option chosen, Enter searches for the text typed.
  // (A second Escape would not do here: with the list closed, a search field's Escape clears it.)
  await page.keyboard.type(word.slice(3));
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.keyboard.press("Enter")]);
  assert.equal(new URL(page.url()).searchParams.get("q"), word);
  assert.ok((await page.$$(".grid .card")).length > 0, "results are shown");
});

test("a query carrying script is shown as text and never runs; no results is a friendly page", async () => {
  const page = await web.page();
  await page.evaluateOnNewDocument(() => { window.__pwned = 0; });
  const payload = `"><img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>`;
  await page.goto(web.reel.url(`/search?q=${encodeURIComponent(payload)}`), { waitUntil: "load" });
  assert.equal(await page.evaluate(() => window.__pwned), 0, "no script ran");
  assert.equal(await page.$eval(".search-form input[name=q]", (input) => input.value), payload);
  assert.equal(await page.$(".listing-head img"), null, "no element came from the query");
  assert.match(await page.$eval(".no-results h2", (heading) => heading.textContent), /No videos match/);
});
