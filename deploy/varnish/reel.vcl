# Varnish 7.1 in front of Reel's app servers (issue 11). What it does:
# - caches the pages anonymous visitors see, for as long as the app's Cache-Control says (public,
#   max-age=30), and keeps them 6 h past that (grace) to serve while every app server is down;
# - asks the app for ESI (Surrogate-Capability) and assembles the per-user fragments
#   (/fragments/user-bar, /fragments/watch/{id}, /fragments/comment-form/{id}): the page is the
#   same for everybody and cached once; a signed-in visitor's fragments are passed to the app
#   with the cookie, an anonymous visitor's are cached like pages;
# - passes everything personal (the viewer's pages, the API, forms, writes) with its cookies;
# - probes every app server's /readyz (backends.vcl) and spreads requests over the healthy ones;
# - accepts purges only from the app servers (acl purgers in backends.vcl): `PURGE /` with
#   `xkey-purge: KEY ...` drops every object tagged with one of the keys (varnish-modules' xkey).
#   The app tags each shared page with the objects it shows (`xkey: video:12 video:40 lists`) and
#   purges them on every write that changes one ([varnish] purge_nodes, purge/purger.h);
# - passes a visitor who just wrote (reel_wrote cookie) so they read their own write.
# The site's backends and purgers live in backends.vcl beside this file (backends.vcl.example).
vcl 4.1;

import directors;
import std;
import xkey;

sub vcl_init {
  new app = directors.round_robin();
}

include "backends.vcl";

sub vcl_recv {
  # HAProxy's check of this node: answered here, so a node whose app servers are all down stays in
  # HAProxy's pool and serves its cache in grace (the app's /healthz would fail it).
  if (req.url == "/varnish-healthz") {
    return (synth(200, "ok"));
  }
  set req.backend_hint = app.backend();
  # While an app server answers, an object may be served at most 10 s past its TTL (and refreshed
  # in the background); when none does, whatever the cache holds, up to its full grace.
  if (std.healthy(req.backend_hint)) {
    set req.grace = 10s;
  } else {
    set req.grace = 6h;
  }

  if (req.method == "PURGE") {
    if (client.ip !~ purgers) {
      return (synth(403, "Purges come from the app servers only."));
    }
    if (!req.http.xkey-purge) {
      return (synth(400, "Name the keys to purge in xkey-purge."));
    }
    set req.http.n-gone = xkey.purge(req.http.xkey-purge);
    return (synth(200, "Purged " + req.http.n-gone));
  }

  # The app renders per-user parts as <esi:include> only when the request says Varnish assembles them.
  set req.http.Surrogate-Capability = "varnish=ESI/1.0";

  if (req.method != "GET" && req.method != "HEAD") {
    # A write's body is kept (up to the app's own limit, [server] max_body_bytes, 1 MiB), so that
    # Varnish can send it once more on a fresh connection when the one it reused is closed with no
    # answer. HAProxy closes that way when the app server it chose died (HTTP/1.1's signal that
    # the client may retry), and a write started just after an app server crashed would fail
    # otherwise. The price: a write the dead server had done but not answered is done twice.
    # Larger bodies (file uploads) stream through and are never re-sent; the uploader resumes.
    if (std.integer(req.http.Content-Length, 0) > 0 &&
        std.integer(req.http.Content-Length, 0) <= 1048576) {
      std.cache_req_body(1MB);
    }
    return (pass);
  }
  # A visitor who wrote a moment ago (the app's reel_wrote cookie, a few seconds long) reads the
  # Redis primary, which has the write, rather than this cache or a replica: passed with cookies.
  if (req.http.Cookie ~ "(^|;\s*)reel_wrote=") {
    return (pass);
  }
  # Personal with a session: the viewer's own pages, the forms, the API, a signed-in fragment, a
  # playlist (private ones are their owner's alone) and a watch page played from one.
  if (req.http.Cookie ~ "(^|;\s*)reel_(session|form)=" &&
      (req.url ~ "^/(account|me/|subscriptions|upload|signin|register|fragments/|playlist/|api/)" ||
       req.url ~ "[?&]list=")) {
    return (pass);
  }
  # The sign-in and register forms set their own double-submit cookie: never shared.
  if (req.url ~ "^/(signin|register|account|me/|subscriptions|upload)") {
    return (pass);
  }
  # Everything else is the same for everybody: cookies play no part in it.
  unset req.http.Cookie;
  return (hash);
}

sub vcl_backend_response {
  if (beresp.http.Surrogate-Control ~ "ESI/1.0") {
    unset beresp.http.Surrogate-Control;
    set beresp.do_esi = true;
  }
  set beresp.grace = 6h;
  # Private, no-store or Set-Cookie answers are not stored (the built-in VCL makes them
  # hit-for-miss); everything else lives as long as its Cache-Control says.
}

sub vcl_deliver {
  # The tags are Varnish's business, not the visitor's.
  unset resp.http.xkey;
  if (obj.hits > 0) {
    set resp.http.X-Cache = "hit";
  } else {
    set resp.http.X-Cache = "miss";
  }
}
