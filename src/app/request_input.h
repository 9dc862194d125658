// RequestInput: the fields of a state-changing call, whether it came from the API (a JSON object
// body, `X-CSRF-Token` header) or from a plain HTML form (application/x-www-form-urlencoded, the
// CSRF token as the field `csrf`, PUT/PATCH/DELETE spelled as the field `_method`, since forms
// only POST). The people routes serve both with one handler: pages work without JavaScript and
// the API keeps its JSON contract.
//
// A form call is answered with a redirect (303 See Other) to a local page — the form's `next`
// field or the Referer's path — and its errors with an HTML page; an API call with JSON. Bodies
// of other types are refused (415).
//
// Thread-safety: a value per request.
// Failure: parse() returns an invalid_input Error with a message for the client (malformed JSON,
// not an object, a malformed form); the typed getters return one naming the field.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "http/message.h"
#include "pages/renderer.h"

namespace reel::app {

class RequestInput {
 public:
  // Reads the request's body (empty is an empty object) and, for forms, `_method`.
  static Result<RequestInput> parse(const http::Request& request);
  // False when the body is of a type parse() refuses (415), rather than malformed (400).
  static bool accepts(const http::Request& request);

  bool is_form() const { return form_; }
  // The method the client meant: the request's, or a form's `_method` (upper-cased; only PUT,
  // PATCH and DELETE override a POST).
  const std::string& method() const { return method_; }
  // The CSRF token the client presented (header or form field); empty when none.
  const std::string& csrf() const { return csrf_; }
  // Where a form call goes next: its `next` field or the Referer's path when either is a local
  // path ("/…", not "//…"), else `fallback`.
  std::string next(const http::Request& request, std::string_view fallback) const;

  bool has(std::string_view name) const;
  // A string field; nullopt when absent. A JSON value of another type is an Error.
  Result<std::optional<std::string>> text(std::string_view name) const;
  // A required string field.
  Result<std::string> required_text(std::string_view name) const;
  // Typed fields take JSON values of their type, and a form's text (forms have nothing else).
  // An integer field (JSON number; a form's decimal text); nullopt when absent.
  Result<std::optional<int64_t>> integer(std::string_view name) const;
  // A boolean field (JSON true/false; form "1", "0", "true", "false", "on"); nullopt when absent.
  Result<std::optional<bool>> boolean(std::string_view name) const;
  // A list of positive ids (a JSON array of numbers; a form's comma-separated list), at most
  // `max_items`; nullopt when absent.
  Result<std::optional<std::vector<int64_t>>> id_list(std::string_view name, size_t max_items) const;

 private:
  nlohmann::json fields_ = nlohmann::json::object();  // form fields are strings
  bool form_ = false;
  std::string method_;
  std::string csrf_;
};

// Whether the request came from a plain HTML form of this site's pages: a form body
// (urlencoded or multipart) with neither an X-CSRF-Token nor an Authorization header, which script
// and API clients send. Such a request is refused with a page, not JSON (form_error_page).
bool sent_by_plain_form(const http::Request& request);

// A JSON error answer ({"error": message}) as the error page a plain form gets instead: the same
// status and headers (Retry-After…), the message on the site's error page.
http::Response form_error_page(const pages::Renderer& pages, const http::Response& json);

// What a 503 says when SQL or Redis did not answer (with Retry-After).
inline constexpr std::string_view busy_message = "The site is busy. Please try again in a moment.";

// An id in a URL: a positive decimal number of at most 18 digits with nothing around it.
std::optional<int64_t> parse_id(std::string_view text);

// The highest page number any list answers: past it a page is refused before any read.
inline constexpr int max_page_number = 100000;

// The query's page number `name` ("page", "comments_page"): 1 when absent; nullopt when it is not a
// number from 1 to `max_page`.
std::optional<int> page_number(std::string_view query, std::string_view name, int max_page);

// The filters listings and search share, read from a query string. Each returns the message of a
// 400 for a value it refuses, or nullopt (and sets *out when the parameter is given and not empty).
// What is malformed: the first of `names` present whose value is not valid URL-encoded text.
std::optional<std::string> malformed_param(std::string_view query,
                                           std::initializer_list<std::string_view> names);
std::optional<std::string> read_duration(std::string_view query, projection::Duration* out);
std::optional<std::string> read_period(std::string_view query, projection::Period* out);
// The page ("page"), from 1 to max_page_number.
std::optional<std::string> read_page(std::string_view query, int* out);

// A local path fit to redirect to: starts with one '/', no backslash, no control characters.
bool is_local_path(std::string_view path);

// The xkey tags of a page others may cache (deploy/varnish/reel.vcl): the objects it shows, named
// as the write path names them (common/change_sink.h), so the purge a write sends
// (purge/purger.h) drops every cached page that showed what it changed. Pages are tagged with
// videos, playlists and "lists" only (purge::tags_pages: other objects are never purged).
class PageTags {
 public:
  PageTags& add(std::string_view object);
  PageTags& add(const std::vector<projection::Card>& cards);  // each card's video
  bool empty() const { return text_.empty(); }
  const std::string& text() const { return text_; }  // space-separated, as xkey reads them

 private:
  std::string text_;
};

}  // namespace reel::app
