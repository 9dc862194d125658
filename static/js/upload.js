// The upload page (templates/upload.html). Sends the form with XMLHttpRequest, so the progress bar
// follows the bytes sent: files up to data-resumable-above bytes as one POST to data-uploads
// (multipart: title, description, tags, category, file); bigger ones to the resumable API
// (data-resumable) in data-chunk-bytes pieces, each PATCH at the server's offset — a dropped piece
// is retried with backoff from the offset the server reports, and a session is remembered per
// file, so uploading the same file again after a reload resumes it. Then polls
// /api/v1/videos/{id} until the video is ready (a link to its watch page) or failed (the reason).
// Errors show the message of the server's JSON error body. Every call carries the session's CSRF
// token (the form's `csrf` field) as X-CSRF-Token; the session cookie goes with it. Without
// JavaScript the form posts itself (the server then redirects to the channel).
(function () {
  "use strict";
  const form = document.querySelector(".upload-form");
  if (!form) return;
  const status = document.querySelector(".upload-status");
  const part = function (selector) { return status.querySelector(selector); };
  const maxRetries = 6;

  function stored(key) {
    try { return localStorage.getItem(key); } catch (e) { return null; }
  }
  function store(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, value);
    } catch (e) { /* storage off: nothing is remembered */ }
  }

  // A title from the file's name when none is typed yet.
  form.elements.file.addEventListener("change", function () {
    const file = form.elements.file.files[0];
    if (file && !form.elements.title.value.trim()) {
      form.elements.title.value = file.name.replace(/\.[^.]*$/, "").replace(/[_.]+/g, " ").trim().slice(0, 200);
    }
  });

  function wait(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  // One request; resolves with the XMLHttpRequest whatever its status, rejects only when no answer
  // came (connection lost, server gone).
  function send(method, url, headers, body, onProgress) {
    return new Promise(function (resolve, reject) {
      const xhr = new XMLHttpRequest();
      xhr.open(method, url);
      for (const name of Object.keys(headers)) xhr.setRequestHeader(name, headers[name]);
      if (onProgress) {
        xhr.upload.addEventListener("progress", function (event) {
          if (event.lengthComputable) onProgress(event.loaded, event.total);
        });
      }
      xhr.addEventListener("load", function () { resolve(xhr); });
      for (const type of ["error", "abort", "timeout"]) {
        xhr.addEventListener(type, function () {
          const lost = new Error("The connection to the server was lost.");
          lost.lost = true;
          reject(lost);
        });
      }
      xhr.send(body === undefined ? null : body);
    });
  }

  // What the server said went wrong: the message of its JSON error body, else the status.
  function serverMessage(xhr) {
    try {
      const message = JSON.parse(xhr.responseText).error;
      if (message) return message;
    } catch (e) { /* not JSON: the status says it */ }
    if (xhr.status === 413) return "The file is larger than this server accepts.";
    return "The server answered " + xhr.status + (xhr.statusText ? " " + xhr.statusText : "") + ".";
  }

  function json(xhr) {
    try { return JSON.parse(xhr.responseText); } catch (e) { return null; }
  }

  // --- What the page shows. ---
  function percentText(fraction) {
    return Math.floor(Math.max(0, Math.min(1, fraction)) * 100) + "%";
  }
  function showSent(fraction, label) {
    part(".upload-status__upload").value = Math.floor(Math.max(0, Math.min(1, fraction)) * 100);
    part(".upload-status__sent").textContent = percentText(fraction);
    if (label) part(".upload-status__label").textContent = label;
  }
  function showProcessing(state, progress) {
    part(".upload-status__processing").hidden = false;
    part(".upload-status__state").textContent = state;
    part(".upload-status__process").value = progress;
    part(".upload-status__done").textContent = progress + "%";
  }
  function showError(message) {
    const error = part(".upload-status__error");
    error.textContent = message;
    error.hidden = false;
  }
  function reset() {
    status.hidden = false;
    showSent(0, "Uploading");
    part(".upload-status__processing").hidden = true;
    part(".upload-status__error").hidden = true;
    part(".upload-status__ready").hidden = true;
  }

  // --- Sending. ---
  function fields() {
    const values = {};
    for (const name of ["title", "description", "tags", "category"]) values[name] = form.elements[name].value;
    return values;
  }

  async function postWhole(file, auth) {
    const body = new FormData();
    const values = fields();
    for (const name of Object.keys(values)) body.append(name, values[name]);
    body.append("file", file, file.name);
    const xhr = await send("POST", form.getAttribute("data-uploads"), auth, body, function (loaded, total) {
      showSent(loaded / total);
    });
    if (xhr.status !== 201) throw new Error(serverMessage(xhr));
    return json(xhr);
  }

  // The resumable API: a session (reused when this file's is still open), then PATCHes from the
  // server's offset until the one that completes it answers 201 with the video.
  async function sendInPieces(file, auth, key) {
    const chunk = Math.max(1, Number(form.getAttribute("data-chunk-bytes")) || 8 << 20);
    let location = stored(key), offset = 0;
    if (location) {
      const asked = await send("GET", location, auth);
      if (asked.status === 200) offset = Number(asked.getResponseHeader("Upload-Offset")) || 0;
      else location = null;  // gone, or another account's: start again
    }
    if (!location) {
      const headers = Object.assign({ "Upload-Length": String(file.size), "Content-Type": "application/json" }, auth);
      const created = await send("POST", form.getAttribute("data-resumable"), headers, JSON.stringify(fields()));
      if (created.status !== 201) throw new Error(serverMessage(created));
      location = created.getResponseHeader("Location");
      store(key, location);
    }
    let failures = 0;
    for (;;) {
      showSent(offset / file.size);
      const from = offset;
      const headers = Object.assign({ "Upload-Offset": String(from), "Content-Type": "application/offset+octet-stream" }, auth);
      let xhr = null;
      try {
        xhr = await send("PATCH", location, headers, file.slice(from, Math.min(file.size, from + chunk)), function (loaded) {
          showSent((from + loaded) / file.size);
        });
      } catch (lost) { /* retried below */ }
      const at = xhr && xhr.getResponseHeader("Upload-Offset");
      if (xhr && xhr.status === 201) {
        store(key, null);
        return json(xhr);
      }
      if (xhr && (xhr.status === 204 || (xhr.status === 409 && at !== null && Number(at) !== from))) {
        offset = Number(at);  // stored up to here; a 409 says where the server is
        failures = 0;
        continue;
      }
      const retry = !xhr || [408, 409, 429, 500, 502, 503, 504].indexOf(xhr.status) >= 0;
      if (!retry || ++failures > maxRetries) {
        if (xhr && xhr.status === 404) store(key, null);
        throw new Error(xhr ? serverMessage(xhr) : "The connection to the server was lost. Upload the same file again to resume.");
      }
      const delay = Math.min(30000, 1000 * Math.pow(2, failures - 1));
      showSent(offset / file.size, "Interrupted: trying again in " + Math.round(delay / 1000) + " s");
      await wait(delay);
      part(".upload-status__label").textContent = "Uploading";
      // Resume from what the server kept: the lost PATCH may have been stored in part or whole.
      try {
        const asked = await send("GET", location, auth);
        if (asked.status === 200) offset = Number(asked.getResponseHeader("Upload-Offset")) || 0;
        else if (asked.status === 404 || asked.status === 401) throw new Error(serverMessage(asked));
      } catch (error) {
        if (!error.lost) {
          store(key, null);
          throw error;
        }
      }
    }
  }

  // Polls the video's processing state until it is ready or failed.
  async function followProcessing(id) {
    showProcessing("Waiting to be processed", 0);
    let delay = 1000;
    for (;;) {
      let xhr = null;
      try { xhr = await send("GET", "/api/v1/videos/" + encodeURIComponent(id), {}); } catch (lost) { /* asked again */ }
      const doc = xhr && xhr.status === 200 ? json(xhr) : null;
      if (doc && doc.status === "ready") {
        showProcessing("Ready", 100);
        const link = part(".upload-status__watch");
        link.href = typeof doc.url === "string" && doc.url.indexOf("/watch/") === 0 ? doc.url : "/watch/" + id;
        part(".upload-status__ready").hidden = false;
        return;
      }
      if (doc && doc.status === "failed") {
        showProcessing("Failed", Number(doc.progress) || 0);
        throw new Error("Processing failed: " + (doc.error || "no reason was given."));
      }
      if (doc) showProcessing(doc.progress > 0 ? "Processing" : "Waiting to be processed", Number(doc.progress) || 0);
      if (xhr && xhr.status === 404) throw new Error("The video is no longer there (was it deleted?).");
      await wait(delay);
      delay = Math.min(5000, delay * 1.25);
    }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    if (!form.reportValidity()) return;
    const file = form.elements.file.files[0];
    const auth = { "X-CSRF-Token": form.elements.csrf.value };
    const submit = form.querySelector(".upload-form__submit");
    submit.disabled = true;
    reset();
    let sent = false;
    try {
      const limit = Number(form.getAttribute("data-resumable-above"));
      const key = "reel.upload:" + [file.name, file.size, file.lastModified].join(":");
      const video = file.size > limit ? await sendInPieces(file, auth, key) : await postWhole(file, auth);
      if (!video || !video.id) throw new Error("The server's answer had no video in it.");
      showSent(1, "Uploaded");
      sent = true;
      await followProcessing(video.id);
    } catch (error) {
      if (!sent) part(".upload-status__label").textContent = "Not uploaded";
      showError(error.message);
    } finally {
      submit.disabled = false;
    }
  });
})();
