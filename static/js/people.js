// The per-user controls without a page reload: the watch page's vote, favorite, subscribe and
// playlist forms (templates/watch_actions.html) and any form marked data-fetch. Each form works
// on its own as a plain POST (the server redirects back); this script sends the same fields as
// JSON with fetch instead — the method from the form's _method field, the CSRF token as
// X-CSRF-Token — and updates the page from the answer: the vote counts and rating, the buttons'
// pressed state and labels, and each form's _method for the next click. A failure shows the
// server's message next to the form and leaves the page as it was.
(function () {
  "use strict";

  // The form's fields as the API takes them: numbers for value and video, booleans for public.
  function body(form, submitter) {
    const fields = {};
    for (const element of form.elements) {
      if (!element.name || element.name === "_method" || element.name === "csrf" || element.type === "submit") continue;
      fields[element.name] = element.value;
    }
    if (submitter && submitter.name) fields[submitter.name] = submitter.value;
    if ("value" in fields) fields.value = Number(fields.value);
    if ("video" in fields) fields.video = Number(fields.video);
    if ("public" in fields) fields.public = fields.public === "1";
    return fields;
  }

  function showError(form, message) {
    let note = form.querySelector(".form-error");
    if (!note) {
      note = document.createElement("p");
      note.className = "form-error";
      note.setAttribute("role", "alert");
      form.appendChild(note);
    }
    note.textContent = message;  // text, never HTML: the message may echo what was typed
  }

  function clearError(form) {
    const note = form.querySelector(".form-error");
    if (note) note.remove();
  }

  function press(button, pressed, on, off) {
    button.setAttribute("aria-pressed", pressed ? "true" : "false");
    if (on) button.textContent = pressed ? on : off;
  }

  // A toggle form (favorite, subscribe, playlist item): PUT/POST adds, DELETE removes.
  function toggled(form, pressedNow, on, off) {
    form.querySelector("input[name=_method]").value = pressedNow ? "DELETE" : form.dataset.add || "PUT";
    press(form.querySelector("button"), pressedNow, on, off);
  }

  function formatCount(n) {
    if (n < 1000) return String(n);
    if (n < 1e6) return (n / 1e3).toFixed(n < 1e4 ? 1 : 0).replace(/\.0$/, "") + "K";
    return (n / 1e6).toFixed(n < 1e7 ? 1 : 0).replace(/\.0$/, "") + "M";
  }

  function applyVote(form, answer) {
    const likes = document.querySelector(".votes__likes");
    const dislikes = document.querySelector(".votes__dislikes");
    if (likes) likes.textContent = "▲ " + formatCount(answer.likes);
    if (dislikes) dislikes.textContent = "▼ " + formatCount(answer.dislikes);
    const up = form.querySelector(".vote--up");
    const down = form.querySelector(".vote--down");
    press(up, answer.mine === 1);
    press(down, answer.mine === -1);
    up.value = answer.mine === 1 ? "0" : "1";
    down.value = answer.mine === -1 ? "0" : "-1";
  }

  async function send(form, submitter) {
    const methodField = form.querySelector("input[name=_method]");
    const method = methodField ? methodField.value : "POST";
    const csrfField = form.querySelector("input[name=csrf]");
    const response = await fetch(form.action, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfField ? csrfField.value : "" },
      body: method === "DELETE" ? undefined : JSON.stringify(body(form, submitter)),
    });
    const text = await response.text();
    let answer = {};
    try { answer = text ? JSON.parse(text) : {}; } catch (e) { /* not JSON */ }
    if (!response.ok) throw new Error(answer.error || "The server answered " + response.status + ".");
    return answer;
  }

  // An element with attributes and children (strings become text, never HTML).
  function element(tag, attributes, children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    for (const child of children || []) node.append(child);
    return node;
  }

  function hidden(name, value) {
    return element("input", { type: "hidden", name: name, value: value });
  }

  // Behind Varnish (ESI) the watch page is everybody's, so it carries no viewer's comment forms.
  // For a signed-in viewer (the user bar's data-user and data-csrf, from their own fragment) this
  // adds the forms the page has when rendered for them alone (templates/watch.html and
  // comment_body.html): a reply form under each comment, and edit and delete forms on their own.
  // Plain forms, as there: they work without further script.
  function addCommentForms() {
    const bar = document.querySelector(".user-bar[data-user]");
    const section = document.querySelector(".comments[data-video]");
    if (!bar || !section || section.querySelector(".comment__reply, .comment__own")) return;
    const csrf = bar.dataset.csrf;
    const video = section.dataset.video;
    for (const comment of section.querySelectorAll(".comments__list > li.comment")) {
      comment.append(element("details", { class: "comment__reply" }, [
        element("summary", {}, ["Reply"]),
        element("form", { method: "post", action: "/api/v1/videos/" + video + "/comments" }, [
          hidden("csrf", csrf), hidden("parent", comment.dataset.comment),
          element("textarea", { name: "body", rows: "2", maxlength: "5000", required: "", "aria-label": "Your reply" }),
          " ", element("button", { type: "submit" }, ["Reply"])])]));
    }
    for (const comment of section.querySelectorAll("li.comment")) {
      if (comment.dataset.author !== bar.dataset.user) continue;
      const action = "/api/v1/comments/" + comment.dataset.comment;
      const text = comment.querySelector(".comment__body");
      const edit = element("textarea", { name: "body", rows: "3", maxlength: "5000", required: "", "aria-label": "Your comment" });
      edit.value = text ? text.textContent : "";
      const own = element("div", { class: "comment__own" }, [
        element("details", { class: "comment__edit" }, [
          element("summary", {}, ["Edit"]),
          element("form", { method: "post", action: action }, [
            hidden("_method", "PATCH"), hidden("csrf", csrf), edit, " ", element("button", { type: "submit" }, ["Save"])])]),
        element("form", { class: "comment__delete", method: "post", action: action }, [
          hidden("_method", "DELETE"), hidden("csrf", csrf), element("button", { type: "submit" }, ["Delete"])])]);
      if (text) text.after(own);
      else comment.append(own);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", addCommentForms);
  else addCommentForms();

  document.addEventListener("submit", async function (event) {
    const form = event.target;
    const kind = ["vote-form", "favorite-form", "subscribe-form", "playlist-form"].find(function (name) {
      return form.classList.contains(name);
    });
    if (!kind) return;
    event.preventDefault();
    clearError(form);
    const submitter = event.submitter;
    try {
      const answer = await send(form, submitter);
      if (kind === "vote-form") applyVote(form, answer);
      else if (kind === "favorite-form") toggled(form, form.querySelector("input[name=_method]").value !== "DELETE", "Favorited", "Favorite");
      else if (kind === "subscribe-form") toggled(form, form.querySelector("input[name=_method]").value !== "DELETE", "Subscribed", "Subscribe");
      else toggled(form, form.querySelector("input[name=_method]").value !== "DELETE");
    } catch (error) {
      showError(form, error.message);
    }
  });
})();
