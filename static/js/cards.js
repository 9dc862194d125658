// Hover previews on video cards (templates/card.html): pointing at a card's thumbnail with a mouse
// or pen (or moving the keyboard focus into the card) plays its short muted preview clip
// (data-preview, a signed URL used as given) over the thumbnail after a short delay, looping,
// until the pointer or focus leaves; the clip is then removed and its download stopped. Nothing
// loads before that. Touch does nothing here (pointerType "touch", and a tap's focus is not
// :focus-visible): a tap opens the watch page as before.
(function () {
  "use strict";
  const delayMs = 300;
  const timers = new WeakMap();

  function start(thumb) {
    if (timers.has(thumb) || thumb.querySelector(".card__preview")) return;
    timers.set(thumb, setTimeout(function () {
      timers.delete(thumb);
      const clip = document.createElement("video");
      clip.className = "card__preview";
      clip.muted = true;
      clip.loop = true;
      clip.playsInline = true;
      clip.setAttribute("muted", "");
      clip.setAttribute("playsinline", "");
      clip.setAttribute("aria-hidden", "true");
      clip.disablePictureInPicture = true;
      // Shown once frames come, so the thumbnail stays until then.
      clip.addEventListener("playing", function () { clip.classList.add("card__preview--playing"); });
      clip.src = thumb.getAttribute("data-preview");
      thumb.appendChild(clip);
      clip.play().catch(function () {});
    }, delayMs));
  }

  function stop(thumb) {
    clearTimeout(timers.get(thumb));
    timers.delete(thumb);
    const clip = thumb.querySelector(".card__preview");
    if (!clip) return;
    clip.pause();
    clip.removeAttribute("src");
    clip.load();  // ends the download
    clip.remove();
  }

  for (const thumb of document.querySelectorAll(".card__thumb[data-preview]")) {
    const card = thumb.closest(".card") || thumb;
    thumb.addEventListener("pointerenter", function (event) {
      if (event.pointerType === "mouse" || event.pointerType === "pen") start(thumb);
    });
    thumb.addEventListener("pointerleave", function () { stop(thumb); });
    // The thumbnail link is out of the tab order; the card's title link takes the focus.
    card.addEventListener("focusin", function (event) {
      if (event.target.matches(":focus-visible")) start(thumb);
    });
    card.addEventListener("focusout", function (event) {
      if (!card.contains(event.relatedTarget)) stop(thumb);
    });
  }
})();
