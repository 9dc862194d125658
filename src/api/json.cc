#include "api/json.h"

#include <nlohmann/json.hpp>

#include "pages/renderer.h"

namespace reel::api {
namespace {

using nlohmann::json;

json rating_value(double rating) {
  return rating < 0 ? json(nullptr) : json(rating);
}

json card_json(const projection::Card& card) {
  return {{"id", card.id},
          {"title", card.title},
          {"slug", card.slug},
          {"url", pages::watch_path(card.id, card.slug)},
          {"duration", card.duration_s},
          {"views", card.views},
          {"rating", rating_value(card.rating)},
          {"published_at", card.published_at},
          {"thumbnail", card.thumb_url},
          {"channel", {{"name", card.channel_name}, {"display_name", card.channel_display_name}}}};
}

json cards_json(const std::vector<projection::Card>& cards) {
  json out = json::array();
  for (const auto& card : cards) out.push_back(card_json(card));
  return out;
}

std::string dump(const json& document) {
  return document.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string listing_document(const projection::Listing& listing, const projection::ListQuery& query) {
  return dump({{"sort", projection::sort_name(query.sort)},
               {"period", projection::period_name(query.period)},
               {"page", listing.page},
               {"pages", listing.pages},
               {"total", listing.total},
               {"per_page", query.per_page},
               {"videos", cards_json(listing.cards)}});
}

std::string search_document(const projection::SearchResults& results,
                            const std::optional<std::string>& suggestion) {
  return dump({{"videos", cards_json(results.cards)},
               {"total", results.total},
               {"total_approximate", results.approximate},
               {"page", results.page},
               {"pages", results.pages},
               {"suggestion", suggestion ? json(*suggestion) : json(nullptr)}});
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
  return dump({{"id", video.id},
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
               {"preview", video.preview_url.empty() ? json(nullptr) : json(video.preview_url)},
               {"related", cards_json(video.related)}});
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
  return dump({{"videos", cards_json(cards)}, {"total", total}, {"page", page}, {"pages", pages}});
}

std::string playlist_document(const catalog::Playlist& playlist, const std::vector<projection::Card>& cards,
                              int64_t total, int page, int pages) {
  json about = {{"id", playlist.id},
                {"title", playlist.title},
                {"public", playlist.is_public},
                {"owner", playlist.owner_name},
                {"created_at", playlist.created_at}};
  return dump({{"playlist", std::move(about)},
               {"videos", cards_json(cards)},
               {"total", total},
               {"page", page},
               {"pages", pages}});
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
