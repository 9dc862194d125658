// The watch page's view beacon: once playback starts, one POST to the video's beacon address
// (sendBeacon survives the page being closed; fetch with keepalive where it is missing). Pages
// without JavaScript count through the <noscript> image instead.
(function () {
  "use strict";
  var video = document.querySelector("video[data-view-beacon]");
  if (!video) return;
  var sent = false;
  video.addEventListener("playing", function () {
    if (sent) return;
    sent = true;
    var url = video.getAttribute("data-view-beacon");
    if (navigator.sendBeacon && navigator.sendBeacon(url)) return;
    if (window.fetch) fetch(url, { method: "POST", keepalive: true, credentials: "same-origin" }).catch(function () {});
  });
})();
