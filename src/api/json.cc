#include "api/json.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <nlohmann/json.hpp>

#include "pages/renderer.h"

namespace reel::api {
namespace {

using nlohmann::json;

json rating_value(double rating) {
  return rating < 0 ? json(nullptr) : json(rating);
}

std::string dump(const json& document) {
  return document.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Appends `text` as a JSON string, byte for byte as dump() writes it: text that needs no escape
// (printable ASCII but the quote and the backslash: slugs, URLs, handles, most titles) is copied;
// anything else goes through dump() itself (escapes, UTF-8 kept, invalid UTF-8 replaced).
void append_string(std::string& out, std::string_view text) {
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte >= 0x20 && byte < 0x7F && c != '"' && c != '\\';
  });
  if (!plain) {
    out += dump(json(text));
    return;
  }
  out += '"';
  out += text;
  out += '"';
}

// The cards as the JSON array dump() would write for objects of the fields below (keys sorted, as
// nlohmann's objects keep them). Written directly: building each card as a json object took about
// two thirds of a cached JSON page's time (the page ran at a third of today's rate,
// docs/benchmarks.md §26). tests/api/json_test.cc compares both writings card by card.
std::string cards_array(const std::vector<projection::Card>& cards) {
  std::string out;
  out.reserve(cards.size() * 400 + 2);
  out += '[';
  for (const projection::Card& card : cards) {
    if (out.size() > 1) out += ',';
    out += "{\"channel\":{\"display_name\":";
    append_string(out, card.channel_display_name);
    out += ",\"name\":";
    append_string(out, card.channel_name);
    fmt::format_to(std::back_inserter(out),
                   "}},\"duration\":{},\"id\":{},\"published_at\":{},\"rating\":", card.duration_s, card.id,
                   card.published_at);
    out += dump(rating_value(card.rating));
    out += ",\"slug\":";
    append_string(out, card.slug);
    out += ",\"thumbnail\":";
    append_string(out, card.thumb_url);
    out += ",\"title\":";
    append_string(out, card.title);
    out += ",\"url\":";
    append_string(out, pages::watch_path(card.id, card.slug));
    fmt::format_to(std::back_inserter(out), ",\"views\":{}}}", card.views);
  }
  out += ']';
  return out;
}

// `document` with `key`: the cards, where dump() would place it among the sorted keys. `key` must
// name no field of an object nested in `document`: the cards go where `"key":null` is written, and
// that text (an unescaped quote) can only be the document's own structure, never inside a string.
std::string with_cards(json document, std::string_view key, const std::vector<projection::Card>& cards) {
  document[std::string(key)] = nullptr;
  std::string out = dump(document);
  const std::string placeholder = fmt::format("\"{}\":null", key);
  const size_t at = out.find(placeholder) + placeholder.size() - 4;  // the null
  out.replace(at, 4, cards_array(cards));
  return out;
}

}  // namespace

std::string listing_document(const projection::Listing& listing, const projection::ListQuery& query) {
  return with_cards({{"sort", projection::sort_name(query.sort)},
                     {"period", projection::period_name(query.period)},
                     {"page", listing.page},
                     {"pages", listing.pages},
                     {"total", listing.total},
                     {"per_page", query.per_page}},
                    "videos", listing.cards);
}

std::string search_document(const projection::SearchResults& results,
                            const std::optional<std::string>& suggestion) {
  return with_cards({{"total", results.total},
                     {"total_approximate", results.approximate},
                     {"page", results.page},
                     {"pages", results.pages},
                     {"suggestion", suggestion ? json(*suggestion) : json(nullptr)}},
                    "videos", results.cards);
}

std::string suggestions_document(const std::vector<std::string>& suggestions) {
  return dump({{"suggestions", suggestions}});
}

std::string opensearch_suggestions_document(std::string_view prefix,
                                            const std::vector<std::string>& suggestions) {
  return dump(json::array({std::string(prefix), suggestions}));
}

std::string video_document(const projection::VideoPage& video) {
  json categories = json::array();
  for (const auto& c : video.categories) categories.push_back({{"slug", c.slug}, {"name", c.name}});
  json files = json::array();
  for (const auto& f : video.files) files.push_back({{"height", f.height}, {"url", f.url}});
  return with_cards(
      {{"id", video.id},
       {"title", video.title},
       {"slug", video.slug},
       {"url", pages::watch_path(video.id, video.slug)},
       {"status", "ready"},
       {"description", video.description},
       {"duration", video.duration_s},
       {"views", video.views},
       {"likes", video.likes},
       {"dislikes", video.dislikes},
       {"comments", video.comments},
       {"rating", rating_value(video.rating)},
       {"published_at", video.published_at},
       {"channel", {{"name", video.channel_name}, {"display_name", video.channel_display_name}}},
       {"tags", video.tags},
       {"categories", categories},
       {"poster", video.poster_url},
       {"files", files},
       {"hls", video.hls_url.empty() ? json(nullptr) : json(video.hls_url)},
       {"sprite_vtt", video.sprite_vtt_url.empty() ? json(nullptr) : json(video.sprite_vtt_url)},
       {"preview", video.preview_url.empty() ? json(nullptr) : json(video.preview_url)}},
      "related", video.related);
}

std::string unlisted_video_document(int64_t id, const projection::UploadStatus& status) {
  return dump({{"id", id},
               {"status", status.state == "failed"  ? "failed"
                          : status.state == "ready" ? "ready"
                                                    : "processing"},
               {"progress", status.progress},
               {"error", status.error},
               {"url", "/api/v1/videos/" + std::to_string(id)}});
}

std::string upload_document(int64_t id) {
  return dump({{"id", id}, {"status", "processing"}, {"url", "/api/v1/videos/" + std::to_string(id)}});
}

namespace {

json comment_json(const catalog::Comment& comment) {
  return {{"id", comment.id},
          {"video", comment.video_id},
          {"parent", comment.parent_id != 0 ? json(comment.parent_id) : json(nullptr)},
          {"body", comment.body},
          {"author", {{"name", comment.author_name}, {"display_name", comment.author_display_name}}},
          {"replies", comment.replies},
          {"created_at", comment.created_at},
          {"edited_at", comment.edited_at != 0 ? json(comment.edited_at) : json(nullptr)}};
}

json user_json(int64_t id, std::string_view name, std::string_view display_name, std::string_view role) {
  return {{"id", id}, {"name", name}, {"display_name", display_name}, {"role", role}};
}

}  // namespace

std::string user_document(int64_t id, std::string_view name, std::string_view display_name,
                          std::string_view role) {
  return dump(user_json(id, name, display_name, role));
}

std::string session_document(std::string_view csrf, int64_t id, std::string_view name,
                             std::string_view display_name, std::string_view role) {
  return dump({{"csrf", csrf}, {"user", user_json(id, name, display_name, role)}});
}

std::string cards_document(const std::vector<projection::Card>& cards, int64_t total, int page, int pages) {
  return with_cards({{"total", total}, {"page", page}, {"pages", pages}}, "videos", cards);
}

std::string playlist_document(const catalog::Playlist& playlist, const std::vector<projection::Card>& cards,
                              int64_t total, int page, int pages) {
  json about = {{"id", playlist.id},
                {"title", playlist.title},
                {"public", playlist.is_public},
                {"owner", playlist.owner_name},
                {"created_at", playlist.created_at}};
  return with_cards({{"playlist", std::move(about)}, {"total", total}, {"page", page}, {"pages", pages}},
                    "videos", cards);
}

std::string vote_document(int64_t likes, int64_t dislikes, int mine) {
  return dump({{"likes", likes}, {"dislikes", dislikes}, {"mine", mine}});
}

std::string created_document(int64_t id) {
  return dump({{"id", id}});
}

std::string comment_document(const catalog::Comment& comment) {
  return dump(comment_json(comment));
}

std::string comments_document(const projection::CommentPage& page) {
  json comments = json::array();
  for (const auto& comment : page.comments) comments.push_back(comment_json(comment));
  return dump(
      {{"comments", std::move(comments)}, {"total", page.total}, {"page", page.page}, {"pages", page.pages}});
}

std::string error_document(int status, std::string_view message) {
  return dump({{"error", message}, {"status", status}});
}

}  // namespace reel::api
