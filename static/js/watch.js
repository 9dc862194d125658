// The watch page's player (templates/watch.html): adaptive HLS through hls.js where the browser has
// Media Source Extensions, else natively (iOS), else the MP4 <source>s (also when hls.js gives up).
// The bar under the video: a seek bar (pointer, touch and keyboard) that previews the sprite tile
// of the time under the pointer (data-sprites, a WebVTT of "sprite.jpg?…#xywh=x,y,w,h" cues), the
// time, and a quality menu (Auto and each HLS level with hls.js; each MP4 height otherwise,
// switching in place). The view beacon: once playback starts, one POST to data-view-beacon
// (sendBeacon survives the page being closed; fetch with keepalive where it is missing). Pages
// without JavaScript keep the native controls and count the view through the <noscript> image.
// Media URLs are used exactly as the page gives them: they are signed. Played from a playlist, the
// page goes on to the playlist's next position (data-next) when the video ends.
(function () {
  "use strict";
  const video = document.querySelector("video[data-view-beacon]");
  if (!video) return;
  const bar = document.querySelector(".player-bar");

  // "1:05", "1:02:03".
  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds || 0));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), rest = s % 60;
    const mm = h > 0 && m < 10 ? "0" + m : String(m);
    return (h > 0 ? h + ":" : "") + mm + ":" + (rest < 10 ? "0" : "") + rest;
  }

  function duration() {
    return isFinite(video.duration) ? video.duration : 0;
  }

  // --- The view beacon: once, on the first "playing". ---
  let beaconSent = false;
  video.addEventListener("playing", function () {
    if (beaconSent) return;
    beaconSent = true;
    const url = video.getAttribute("data-view-beacon");
    if (navigator.sendBeacon && navigator.sendBeacon(url)) return;
    if (window.fetch) fetch(url, { method: "POST", keepalive: true, credentials: "same-origin" }).catch(function () {});
  });

  // --- A playlist goes on to its next position (data-next: a local link) when a video ends. ---
  video.addEventListener("ended", function () {
    const next = video.getAttribute("data-next");
    if (next && next.charAt(0) === "/" && next.charAt(1) !== "/") window.location.assign(next);
  });

  // --- Sources and the quality menu. ---
  const select = bar && bar.querySelector(".quality__select");
  const renditions = Array.from(video.querySelectorAll("source[data-height]")).map(function (source) {
    return { url: source.getAttribute("src"), height: Number(source.getAttribute("data-height")) };
  });

  // The menu's items [{value, label}], `selected` marked, and what choosing one does.
  let choose = null;
  function fillMenu(items, selected, onChoose) {
    if (!select) return;
    choose = onChoose;
    select.textContent = "";
    for (const item of items) {
      const option = document.createElement("option");
      option.value = item.value;
      option.textContent = item.label;
      option.selected = item.value === selected;
      select.appendChild(option);
    }
    select.disabled = items.length < 2;
    select.closest(".quality").hidden = items.length === 0;
  }
  if (select) select.addEventListener("change", function () { if (choose) choose(select.value); });

  // Where playback is: what a change of source keeps.
  function playbackState() {
    return { time: video.currentTime, paused: video.paused, rate: video.playbackRate };
  }

  // Plays `url` in place of the current source, at `state` (by default: where it is now).
  function switchSource(url, state) {
    const kept = state || playbackState();
    video.addEventListener("loadedmetadata", function () {
      if (kept.time > 0) video.currentTime = Math.min(kept.time, duration() || kept.time);
      video.playbackRate = kept.rate;
    }, { once: true });
    video.preload = "metadata";  // at least this much now, even where the page said "none"
    video.src = url;
    if (!kept.paused) video.play().catch(function () {});
  }

  // The MP4 heights (and, with native HLS, "Auto" for the HLS stream); `current` is the URL playing.
  function useFiles(hlsUrl, current) {
    const items = [];
    if (hlsUrl) items.push({ value: hlsUrl, label: "Auto" });
    for (const file of renditions) items.push({ value: file.url, label: file.height + "p" });
    let selected = current;
    if (!selected) {
      // The <source> playing (absolute URLs compared), or the first before one is chosen.
      const playing = video.currentSrc;
      const found = renditions.find(function (file) { return new URL(file.url, location.href).href === playing; });
      selected = found ? found.url : renditions.length ? renditions[0].url : "";
    }
    fillMenu(items, selected, switchSource);
  }

  function useHlsJs(hlsUrl) {
    const Hls = window.Hls;
    const player = new Hls({ capLevelToPlayerSize: true });
    let recovered = false;
    function levelLabel(level) {
      const info = player.levels[level];
      return info ? (info.height ? info.height + "p" : Math.round(info.bitrate / 1000) + " kbit/s") : "";
    }
    // Auto, then the levels highest first; choosing one switches at once (hls.js flushes the
    // buffer and goes on from the same position).
    function menu() {
      const levels = player.levels.map(function (level, index) { return index; });
      levels.sort(function (a, b) { return player.levels[b].height - player.levels[a].height; });
      const items = [{ value: "auto", label: "Auto" }].concat(levels.map(function (index) {
        return { value: String(index), label: levelLabel(index) };
      }));
      fillMenu(items, "auto", function (value) {
        player.currentLevel = value === "auto" ? -1 : Number(value);
      });
    }
    player.on(Hls.Events.MANIFEST_PARSED, menu);
    // In Auto, say which level plays: "Auto (720p)".
    player.on(Hls.Events.LEVEL_SWITCHED, function (event, data) {
      const auto = select && select.querySelector('option[value="auto"]');
      if (auto) auto.textContent = player.autoLevelEnabled ? "Auto (" + levelLabel(data.level) + ")" : "Auto";
    });
    player.on(Hls.Events.ERROR, function (event, data) {
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !recovered) {
        recovered = true;
        player.recoverMediaError();
        return;
      }
      // Anything else fatal: the MP4 renditions, from where playback was.
      const state = playbackState();
      player.destroy();
      if (!renditions.length) return;
      switchSource(renditions[0].url, state);
      useFiles("", renditions[0].url);
    });
    player.loadSource(hlsUrl);
    player.attachMedia(video);
  }

  // hls.js wherever it runs (Media Source Extensions), for its level menu; native HLS (iOS) next.
  const hlsUrl = video.getAttribute("data-hls");
  if (hlsUrl && window.Hls && window.Hls.isSupported()) {
    useHlsJs(hlsUrl);
  } else if (hlsUrl && video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = hlsUrl;
    useFiles(hlsUrl, hlsUrl);
  } else if (renditions.length) {
    useFiles("", "");  // the <source> the browser took: the first, as all are MP4
  }

  if (!bar) return;
  bar.hidden = false;

  // --- The seek bar: pointer (mouse, pen, touch) and keyboard; previews on hover and drag. ---
  const seek = bar.querySelector(".seek");
  const played = seek.querySelector(".seek__played");
  const buffered = seek.querySelector(".seek__buffered");
  const preview = seek.querySelector(".seek__preview");
  const tile = preview.querySelector(".seek__tile");
  const previewTime = preview.querySelector(".seek__time");
  const timeText = bar.querySelector(".player-bar__time");
  let dragging = false, dragTime = 0;

  function render() {
    const total = duration();
    const time = dragging ? dragTime : video.currentTime;
    const fraction = total > 0 ? Math.min(1, time / total) : 0;
    played.style.width = (fraction * 100).toFixed(3) + "%";
    let loaded = 0;
    for (let i = 0; i < video.buffered.length; i++) {
      if (video.buffered.start(i) <= time + 0.5) loaded = Math.max(loaded, video.buffered.end(i));
    }
    buffered.style.width = (total > 0 ? Math.min(100, (loaded / total) * 100) : 0).toFixed(3) + "%";
    seek.setAttribute("aria-valuemax", String(Math.round(total)));
    seek.setAttribute("aria-valuenow", String(Math.round(time)));
    seek.setAttribute("aria-valuetext", clock(time) + " of " + clock(total));
    timeText.textContent = clock(time) + " / " + clock(total);
  }
  for (const type of ["timeupdate", "durationchange", "progress", "seeking", "emptied"]) {
    video.addEventListener(type, render);
  }
  render();

  function timeAt(clientX) {
    const box = seek.getBoundingClientRect();
    return box.width > 0 ? Math.min(1, Math.max(0, (clientX - box.left) / box.width)) * duration() : 0;
  }

  // Seek-preview tiles, fetched the first time the bar is approached.
  const spritesUrl = video.getAttribute("data-sprites");
  let cues = null, cuesLoading = null, previewAt = 0;
  function loadCues() {
    if (!spritesUrl || cuesLoading) return;
    cuesLoading = fetchCues(spritesUrl).then(function (found) {
      cues = found;
      if (found.length) new Image().src = found[0].image;  // warm the cache: the sheet is one image
      if (!preview.hidden) showPreview(previewAt);  // shown while they loaded: add the tile
    }, function () { cues = []; });
  }

  function showPreview(time) {
    const total = duration();
    if (total <= 0) return;
    previewAt = time;
    previewTime.textContent = clock(time);
    const last = cues && cues.length ? cues[cues.length - 1] : null;
    const cue = (cues && cues.find(function (c) { return time >= c.start && time < c.end; })) ||
        (last && time >= last.start ? last : null);
    if (cue) {
      tile.style.width = cue.w + "px";
      tile.style.height = cue.h + "px";
      tile.style.backgroundImage = 'url("' + cue.image + '")';
      tile.style.backgroundPosition = -cue.x + "px " + -cue.y + "px";
      tile.hidden = false;
    } else {
      tile.hidden = true;
    }
    preview.hidden = false;
    const width = preview.offsetWidth, box = seek.getBoundingClientRect();
    const center = (time / total) * box.width;
    preview.style.left = Math.max(0, Math.min(box.width - width, center - width / 2)) + "px";
  }
  function hidePreview() {
    preview.hidden = true;
  }

  function seekTo(time) {
    const total = duration();
    if (total <= 0) return;
    video.currentTime = Math.min(Math.max(0, time), total);
    render();
  }

  seek.addEventListener("pointerenter", loadCues);
  seek.addEventListener("focus", loadCues);
  seek.addEventListener("pointerdown", function (event) {
    if (event.button !== 0 || duration() <= 0) return;
    loadCues();
    dragging = true;
    seek.setPointerCapture(event.pointerId);
    dragTime = timeAt(event.clientX);
    showPreview(dragTime);
    render();
    event.preventDefault();  // no text selection or native drag
  });
  seek.addEventListener("pointermove", function (event) {
    const time = timeAt(event.clientX);
    if (dragging) {
      dragTime = time;
      render();
    } else if (event.pointerType === "touch") {
      return;  // touch previews only while dragging
    }
    showPreview(time);
  });
  function endDrag(event, commit) {
    if (!dragging) return;
    dragging = false;
    if (commit) seekTo(dragTime);
    if (event.pointerType !== "mouse") hidePreview();
  }
  seek.addEventListener("pointerup", function (event) { endDrag(event, true); });
  seek.addEventListener("pointercancel", function (event) { endDrag(event, false); hidePreview(); });
  seek.addEventListener("pointerleave", function () { if (!dragging) hidePreview(); });
  seek.addEventListener("blur", hidePreview);
  seek.addEventListener("keydown", function (event) {
    const total = duration(), now = video.currentTime;
    const step = { ArrowLeft: -5, ArrowDown: -5, ArrowRight: 5, ArrowUp: 5, PageDown: -total / 10, PageUp: total / 10 };
    let target;
    if (event.key in step) target = now + step[event.key];
    else if (event.key === "Home") target = 0;
    else if (event.key === "End") target = total;
    else return;
    event.preventDefault();
    seekTo(target);
    showPreview(Math.min(Math.max(0, target), total));
  });

  // The cues of a seek-preview WebVTT: [{start, end, image, x, y, w, h}], each image URL resolved
  // against the VTT's own URL (its signature is in the query; the tile in the #xywh fragment).
  async function fetchCues(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return [];
    const base = new URL(url, location.href);
    const found = [];
    for (const block of (await response.text()).replace(/\r\n?/g, "\n").split(/\n{2,}/)) {
      const lines = block.split("\n");
      const at = lines.findIndex(function (line) { return line.indexOf("-->") >= 0; });
      if (at < 0 || at + 1 >= lines.length) continue;
      const times = lines[at].split("-->").map(function (part) { return vttSeconds(part.trim().split(/\s+/)[0]); });
      const image = new URL(lines[at + 1].trim(), base);
      const xywh = /^#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(image.hash);
      if (!xywh || isNaN(times[0]) || isNaN(times[1])) continue;
      image.hash = "";
      found.push({ start: times[0], end: times[1], image: image.href,
                   x: Number(xywh[1]), y: Number(xywh[2]), w: Number(xywh[3]), h: Number(xywh[4]) });
    }
    return found;
  }

  // "01:02.500" or "1:01:02.500" in seconds; NaN when it is neither.
  function vttSeconds(text) {
    if (!/^(\d+:)?\d{2}:\d{2}\.\d{3}$/.test(text)) return NaN;
    return text.split(":").reduce(function (total, part) { return total * 60 + Number(part); }, 0);
  }
})();
