// The watch page's player and the cards' hover previews in headless Chromium, against a `reel up`
// of this file's own: a demo video plays and counts one view; an uploaded clip (processed by the
// server's own worker into MP4 renditions, HLS, a sprite sheet and a preview clip) plays through
// hls.js, its quality menu switches levels, or MP4 files when hls.js is missing, in place; the
// seek bar shows the sprite tile of the time under the pointer; its card plays the preview on hover.
"use strict";

const { test } = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const { makeClip, site, waitFor } = require("./support.js");

let reel, video;
const web = site(async (server) => {
  reel = server;
  // 640x360: renditions 360p and 240p; 18 s: four sprite tiles (one per 5 s), five HLS segments.
  const clip = await makeClip(path.join(reel.dir, "clip.mp4"), { seconds: 18, width: 640, height: 360 });
  const id = await reel.upload(clip, await reel.adminToken(), { title: "Browser clip", tags: "browser" });
  video = await reel.waitReady(id);
});

function requested(page, pattern, from = 0) {
  return page.requests.slice(from).filter((r) => pattern.test(r.url));
}

async function playUntil(page, seconds) {
  await page.evaluate(() => document.querySelector("video").play());
  await page.waitForFunction((s) => document.querySelector("video").currentTime > s, { timeout: 30000 }, seconds);
}

// The quality menu's options: [{value, label, selected}].
function menu(page) {
  return page.$$eval(".quality__select option", (options) =>
    options.map((o) => ({ value: o.value, label: o.textContent, selected: o.selected })));
}

// Chooses the option labelled `label` the way a person does (a change event).
async function choose(page, label) {
  const options = await menu(page);
  const option = options.find((o) => o.label === label);
  assert.ok(option, `no "${label}" in the quality menu: ${JSON.stringify(options)}`);
  await page.select(".quality__select", option.value);
}

test("a demo video plays and sends its view beacon once", async () => {
  const page = await web.page();
  await page.goto(reel.url("/watch/1"), { waitUntil: "load" });
  assert.equal(await page.$eval(".player-bar", (bar) => bar.hidden), false, "the player bar is shown");
  await playUntil(page, 0.5);
  const beacon = /\/api\/v1\/videos\/1\/view$/;
  await waitFor("the view beacon", () => requested(page, beacon).length > 0, 10000);
  assert.notEqual(await page.$eval(".seek__played", (bar) => bar.style.width), "0.000%", "the seek bar follows");
  // Playing again (paused, back to the start) counts nothing more.
  await page.evaluate(async () => {
    const player = document.querySelector("video");
    player.pause();
    player.currentTime = 0;
    const playing = new Promise((resolve) => player.addEventListener("playing", resolve, { once: true }));
    await player.play();
    await playing;
  });
  // A request made after that: a second beacon would have been sent before it.
  await page.evaluate(() => fetch("/healthz"));
  const beacons = requested(page, beacon);
  assert.deepEqual(beacons.map((r) => r.method), ["POST"], "one POST beacon");
  await page.close();
});

test("an uploaded video plays through hls.js and its quality menu switches levels in place", async () => {
  assert.ok(video.hls, "the upload has an HLS set");
  const page = await web.page();
  await page.goto(reel.url(video.url), { waitUntil: "load" });
  assert.ok(await page.evaluate(() => typeof window.Hls === "function"), "hls.js is loaded");
  await page.waitForFunction(() => document.querySelectorAll(".quality__select option").length === 3, { timeout: 20000 });
  const labels = (await menu(page)).map((o) => o.label.replace(/ \(.*\)$/, ""));
  assert.deepEqual(labels, ["Auto", "360p", "240p"]);
  assert.ok((await menu(page))[0].selected, "Auto to begin with");
  assert.match(await page.$eval("video", (v) => v.currentSrc), /^blob:/, "hls.js feeds the video (MSE)");
  await playUntil(page, 1);
  assert.ok(requested(page, /\/hls\/\d+\/\d+\.m4s\?/).length > 0, "segments come from the HLS set");

  for (const label of ["360p", "240p"]) {
    await page.evaluate(() => document.querySelector("video").pause());
    const before = await page.evaluate(() => document.querySelector("video").currentTime);
    const from = page.requests.length;
    await choose(page, label);
    const rung = label.replace("p", "");
    await waitFor(`a ${label} segment`, () => requested(page, new RegExp(`/hls/${rung}/\\d+\\.m4s\\?`), from).length > 0, 20000);
    const after = await page.evaluate(() => ({ time: document.querySelector("video").currentTime, paused: document.querySelector("video").paused }));
    assert.ok(after.paused, "still paused");
    assert.ok(Math.abs(after.time - before) < 0.5, `position kept: ${before} -> ${after.time}`);
    assert.equal((await menu(page)).find((o) => o.selected).label, label);
    await playUntil(page, before + 0.5);
  }
  await page.close();
});

// A page on which hls.js fails to load; with `native` false the browser cannot play HLS either.
async function withoutHlsJs(native) {
  const page = await web.page();
  await page.setRequestInterception(true);
  page.on("request", (request) => {
    // Plain or versioned (hls.min.<10 hex digits>.js: media/static_assets.h).
    if (/\/hls\.min(\.[0-9a-f]{10})?\.js$/.test(request.url())) request.abort("failed");
    else request.continue();
  });
  if (!native) {
    await page.evaluateOnNewDocument(() => {
      const canPlayType = HTMLMediaElement.prototype.canPlayType;
      HTMLMediaElement.prototype.canPlayType = function (type) {
        return /mpegurl/i.test(type) ? "" : canPlayType.call(this, type);
      };
    });
  }
  await page.goto(reel.url(video.url), { waitUntil: "load" });
  assert.equal(await page.evaluate(() => typeof window.Hls), "undefined");
  return page;
}

// Chooses `label` while playing; the video's source becomes one matching `source` and plays on
// from where it was.
async function switchWhilePlaying(page, label, source) {
  await page.waitForFunction(() => !document.querySelector("video").paused, { timeout: 5000 });
  const before = await page.evaluate(() => document.querySelector("video").currentTime);
  await choose(page, label);
  await page.waitForFunction((pattern) => new RegExp(pattern).test(document.querySelector("video").currentSrc),
                             { timeout: 10000 }, source.source);
  await page.waitForFunction((t) => {
    const v = document.querySelector("video");
    return !v.paused && v.readyState >= 2 && v.currentTime > t;
  }, { timeout: 20000 }, before);
  const after = await page.evaluate(() => document.querySelector("video").currentTime);
  assert.ok(after < before + 5, `${label}: position kept: ${before} -> ${after}`);
  assert.equal((await menu(page)).find((o) => o.selected).label, label);
}

test("without hls.js or native HLS the MP4 renditions play and the menu switches them in place", async () => {
  const page = await withoutHlsJs(false);
  await page.waitForFunction(() => document.querySelectorAll(".quality__select option").length === 2, { timeout: 20000 });
  assert.deepEqual((await menu(page)).map((o) => [o.label, o.selected]), [["360p", true], ["240p", false]]);
  assert.match(await page.$eval("video", (v) => v.currentSrc), /\/mp4\/360\.mp4\?md5=/);
  await playUntil(page, 1.5);
  await switchWhilePlaying(page, "240p", /\/mp4\/240\.mp4\?md5=/);
  await page.close();
});

// Chromium plays HLS natively since version 14x; an older one takes the MP4 path here too.
test("without hls.js, native HLS plays, with the MP4 renditions in the menu beside Auto", async () => {
  const page = await withoutHlsJs(true);
  const native = await page.evaluate(() => document.querySelector("video").canPlayType("application/vnd.apple.mpegurl") !== "");
  const expected = native ? [["Auto", true], ["360p", false], ["240p", false]] : [["360p", true], ["240p", false]];
  await page.waitForFunction((n) => document.querySelectorAll(".quality__select option").length === n,
                             { timeout: 20000 }, expected.length);
  assert.deepEqual((await menu(page)).map((o) => [o.label, o.selected]), expected);
  await playUntil(page, 1);
  if (native) assert.match(await page.$eval("video", (v) => v.currentSrc), /\/hls\/master\.m3u8\?md5=/);
  await switchWhilePlaying(page, "240p", /\/mp4\/240\.mp4\?md5=/);
  if (native) await switchWhilePlaying(page, "Auto", /\/hls\/master\.m3u8\?md5=/);
  await page.close();
});

test("hovering the seek bar shows the sprite tile of that time", async () => {
  const page = await web.page();
  await page.goto(reel.url(video.url), { waitUntil: "load" });
  assert.match(await page.$eval("video", (v) => v.dataset.sprites), /\.vtt\?md5=/, "a signed VTT");
  await page.waitForFunction(() => document.querySelector("video").duration > 0, { timeout: 20000 });
  // The tile under the pointer at `fraction` of the bar, once shown: the sprite (x, y) it shows
  // must be the cue's of the time shown (tiles of 160x90, one per 5 s, in a row).
  const tileAt = async (fraction) => {
    const bar = await (await page.$(".seek")).boundingBox();
    await page.mouse.move(bar.x + bar.width * fraction, bar.y + bar.height / 2);
    const shown = await page.waitForFunction(() => {
      const tile = document.querySelector(".seek__tile");
      return !document.querySelector(".seek__preview").hidden && !tile.hidden && tile.style.backgroundImage &&
        { image: tile.style.backgroundImage, position: tile.style.backgroundPosition,
          width: tile.offsetWidth, time: document.querySelector(".seek__time").textContent };
    }, { timeout: 10000 }).then((handle) => handle.jsonValue());
    const [minutes, seconds] = shown.time.split(":").map(Number);
    const tile = Math.min(3, Math.floor((minutes * 60 + seconds) / 5));
    assert.equal(shown.position, `${tile ? -160 * tile + "px" : "0px"} 0px`, `the tile of ${shown.time}`);
    assert.equal(shown.width, 160);
    return { ...shown, tile };
  };
  const early = await tileAt(0.1);
  assert.match(early.image, /sprite\.jpg\?md5=[^#]*"\)$/, "the signed sprite, without the #xywh");
  assert.equal(early.tile, 0);
  const late = await tileAt(0.9);
  assert.equal(late.tile, 3, "the last tile near the end");
  await waitFor("the sprite image", () => requested(page, /sprite\.jpg\?md5=/).length > 0, 10000);
  // The tile's image loads (the signature is good).
  const status = await page.evaluate(async (image) => (await fetch(image.slice(5, -2))).status, late.image);
  assert.equal(status, 200);
  await page.mouse.move(10, 10);
  await page.waitForFunction(() => document.querySelector(".seek__preview").hidden, { timeout: 5000 });
  // The keyboard seeks too.
  await page.focus(".seek");
  await page.keyboard.press("End");
  await page.waitForFunction(() => document.querySelector("video").currentTime > 17, { timeout: 5000 });
  await page.close();
});

test("a card plays its preview on hover, and only then", async () => {
  const page = await web.page();
  await page.goto(reel.url("/videos"), { waitUntil: "load" });
  const thumb = `.card__thumb[href="${video.url}"]`;
  assert.ok(await page.$(`${thumb}[data-preview]`), "the card has a preview");
  assert.equal(requested(page, /preview\.mp4/).length, 0, "nothing loads before a hover");
  await page.hover(thumb);
  await page.waitForFunction((selector) => {
    const clip = document.querySelector(`${selector} video.card__preview`);
    return clip && clip.muted && clip.loop && clip.classList.contains("card__preview--playing") && clip.currentTime > 0;
  }, { timeout: 15000 }, thumb);
  await page.mouse.move(0, 0);
  await page.waitForFunction((selector) => !document.querySelector(`${selector} video`), { timeout: 5000 }, thumb);
  await page.close();
});

test("on a touch screen a tap on a card opens the video and plays no preview", async () => {
  const page = await web.page();
  await page.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
  await page.goto(reel.url("/videos"), { waitUntil: "load" });
  const thumb = await page.$(`.card__thumb[href="${video.url}"]`);
  const box = await thumb.boundingBox();
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }),
                     page.touchscreen.tap(box.x + box.width / 2, box.y + box.height / 2)]);
  assert.equal(new URL(page.url()).pathname, video.url);
  assert.equal(requested(page, /preview\.mp4/).length, 0, "no preview loaded");
  await page.close();
});
