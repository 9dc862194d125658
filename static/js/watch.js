// The watch page's view beacon: once playback starts, one POST to the video's beacon address
// (sendBeacon survives the page being closed; fetch with keepalive where it is missing). Pages
// without JavaScript count through the <noscript> image instead.
(function () {
  "use strict";
  var video = document.querySelector("video[data-view-beacon]");
  if (!video) return;

  // Adaptive streaming when the video has an HLS set: natively where the browser plays HLS
  // (Safari, iOS), else through hls.js (vendored, loaded before this script); otherwise the MP4
  // <source> elements play as they are.
  var hls = video.getAttribute("data-hls");
  if (hls) {
    if (video.canPlayType("application/vnd.apple.mpegurl")) {
      video.src = hls;
    } else if (window.Hls && window.Hls.isSupported()) {
      var player = new window.Hls({ capLevelToPlayerSize: true });
      player.loadSource(hls);
      player.attachMedia(video);
    }
  }
  var sent = false;
  video.addEventListener("playing", function () {
    if (sent) return;
    sent = true;
    var url = video.getAttribute("data-view-beacon");
    if (navigator.sendBeacon && navigator.sendBeacon(url)) return;
    if (window.fetch) fetch(url, { method: "POST", keepalive: true, credentials: "same-origin" }).catch(function () {});
  });
})();
