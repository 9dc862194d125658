#include "app/request_input.h"

#include <fmt/format.h>

#include <charconv>

#include "common/change_sink.h"
#include "common/text.h"
#include "http/url.h"

namespace reel::app {
namespace {

Error bad(std::string message) {
  return Error{std::move(message), ErrorKind::invalid_input};
}

bool media_type_is(const http::Request& request, std::string_view type) {
  auto content_type = request.header("Content-Type");
  if (!content_type) return false;
  std::string_view value = trim(content_type->substr(0, content_type->find(';')));
  return iequals(value, type);
}

std::optional<int64_t> parse_integer(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Form fields into `fields` as strings; the first of repeated names wins.
Status parse_form(std::string_view body, nlohmann::json& fields) {
  while (!body.empty()) {
    const size_t end = body.find('&');
    const std::string_view pair = body.substr(0, end);
    body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    auto name = http::percent_decode(pair.substr(0, equals), /*plus_is_space=*/true);
    auto value =
        http::percent_decode(equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1),
                             /*plus_is_space=*/true);
    if (!name || !value) return bad("The form is malformed.");
    if (!fields.contains(*name)) fields[*name] = std::move(*value);
  }
  return {};
}

// The value of the parameter `name` parsed by `parse` into *out; absent or empty leaves *out
// alone; a value `parse` refuses is the message `unknown`.
template <class T, class Parse>
std::optional<std::string> read_choice(std::string_view query, std::string_view name, Parse parse,
                                       std::string_view unknown, T* out) {
  auto text = http::query_param(query, name);
  if (!text || text->empty()) return std::nullopt;
  auto value = parse(*text);
  if (!value) return std::string(unknown);
  *out = *value;
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> parse_id(std::string_view text) {
  if (text.empty() || text.size() > 18 || text[0] < '1' || text[0] > '9') return std::nullopt;
  return parse_integer(text);
}

std::optional<int> page_number(std::string_view query, std::string_view name, int max_page) {
  auto text = http::query_param(query, name);
  if (!text) return 1;
  auto number = parse_id(*text);
  if (!number || *number > max_page) return std::nullopt;
  return static_cast<int>(*number);
}

std::optional<std::string> malformed_param(std::string_view query,
                                           std::initializer_list<std::string_view> names) {
  for (std::string_view name : names) {
    if (http::query_param_malformed(query, name))
      return "The parameter " + std::string(name) + " is not valid URL-encoded text.";
  }
  return std::nullopt;
}

std::optional<std::string> read_duration(std::string_view query, projection::Duration* out) {
  return read_choice(query, "duration", projection::parse_duration,
                     "Unknown duration: use short, medium, long or any.", out);
}

std::optional<std::string> read_period(std::string_view query, projection::Period* out) {
  return read_choice(query, "period", projection::parse_period,
                     "Unknown period: use day, week, month or all.", out);
}

std::optional<std::string> read_page(std::string_view query, int* out) {
  auto page = page_number(query, "page", max_page_number);
  if (!page) return "The page must be a number from 1 to " + std::to_string(max_page_number) + ".";
  *out = *page;
  return std::nullopt;
}

bool is_local_path(std::string_view path) {
  if (path.empty() || path[0] != '/' || (path.size() > 1 && (path[1] == '/' || path[1] == '\\')))
    return false;
  for (char c : path) {
    if (static_cast<unsigned char>(c) < 0x20 || c == '\\' || c == 0x7F) return false;
  }
  return true;
}

bool RequestInput::accepts(const http::Request& request) {
  return trim(request.body).empty() || media_type_is(request, "application/json") ||
         media_type_is(request, "application/x-www-form-urlencoded");
}

Result<RequestInput> RequestInput::parse(const http::Request& request) {
  RequestInput input;
  input.method_ = request.method;
  if (media_type_is(request, "application/x-www-form-urlencoded")) {
    input.form_ = true;
    if (Status parsed = parse_form(request.body, input.fields_); !parsed.ok()) return parsed.error();
    if (request.method == "POST" && input.fields_.contains("_method")) {
      std::string method = input.fields_["_method"].get<std::string>();
      for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (method != "PUT" && method != "PATCH" && method != "DELETE") return bad("Unknown _method.");
      input.method_ = std::move(method);
    }
    if (input.fields_.contains("csrf")) input.csrf_ = input.fields_["csrf"].get<std::string>();
    return input;
  }
  if (auto token = request.header("X-CSRF-Token")) input.csrf_ = std::string(trim(*token));
  if (trim(request.body).empty()) return input;
  if (!media_type_is(request, "application/json")) {
    return Error{"Send JSON (Content-Type: application/json) or a form.", ErrorKind::invalid_input};
  }
  nlohmann::json parsed = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return bad("The body is not valid JSON.");
  if (!parsed.is_object()) return bad("The body must be a JSON object.");
  input.fields_ = std::move(parsed);
  return input;
}

std::string RequestInput::next(const http::Request& request, std::string_view fallback) const {
  if (auto field = fields_.find("next"); field != fields_.end() && field->is_string()) {
    const std::string& next = field->get_ref<const std::string&>();
    if (is_local_path(next)) return next;
  }
  if (auto referer = request.header("Referer")) {
    // Only the path (and query) of a Referer naming this site: scheme://host/path → /path.
    std::string_view value = *referer;
    const size_t scheme = value.find("://");
    if (scheme != std::string_view::npos) {
      const size_t path = value.find('/', scheme + 3);
      const std::string_view host_part = value.substr(scheme + 3, path - (scheme + 3));
      auto host = request.header("Host");
      if (path != std::string_view::npos && host && iequals(host_part, *host) &&
          is_local_path(value.substr(path))) {
        return std::string(value.substr(path));
      }
    }
  }
  return std::string(fallback);
}

bool RequestInput::has(std::string_view name) const {
  return fields_.contains(name);
}

Result<std::optional<std::string>> RequestInput::text(std::string_view name) const {
  auto field = fields_.find(name);
  if (field == fields_.end() || field->is_null()) return std::optional<std::string>();
  if (!field->is_string()) return bad(fmt::format("The field {} must be text.", name));
  return std::optional<std::string>(field->get<std::string>());
}

Result<std::string> RequestInput::required_text(std::string_view name) const {
  Result<std::optional<std::string>> value = text(name);
  if (!value.ok()) return value.error();
  if (!*value) return bad(fmt::format("The field {} is required.", name));
  return std::move(**value);
}

Result<std::optional<int64_t>> RequestInput::integer(std::string_view name) const {
  auto field = fields_.find(name);
  if (field == fields_.end() || field->is_null()) return std::optional<int64_t>();
  if (field->is_number_integer()) return std::optional<int64_t>(field->get<int64_t>());
  if (form_ && field->is_string()) {
    if (auto value = parse_integer(field->get_ref<const std::string&>()))
      return std::optional<int64_t>(*value);
  }
  return bad(fmt::format("The field {} must be a whole number.", name));
}

Result<std::optional<bool>> RequestInput::boolean(std::string_view name) const {
  auto field = fields_.find(name);
  if (field == fields_.end() || field->is_null()) return std::optional<bool>();
  if (field->is_boolean()) return std::optional<bool>(field->get<bool>());
  if (form_ && field->is_string()) {
    const std::string& value = field->get_ref<const std::string&>();
    if (value == "1" || value == "true" || value == "on") return std::optional<bool>(true);
    if (value == "0" || value == "false") return std::optional<bool>(false);
  }
  return bad(fmt::format("The field {} must be true or false.", name));
}

Result<std::optional<std::vector<int64_t>>> RequestInput::id_list(std::string_view name,
                                                                  size_t max_items) const {
  auto field = fields_.find(name);
  if (field == fields_.end() || field->is_null()) return std::optional<std::vector<int64_t>>();
  const Error wrong = bad(fmt::format("The field {} must be a list of ids.", name));
  std::vector<int64_t> ids;
  auto add = [&](std::optional<int64_t> id) {
    if (!id || *id <= 0 || ids.size() >= max_items) return false;
    ids.push_back(*id);
    return true;
  };
  if (field->is_array()) {
    for (const auto& element : *field) {
      if (!element.is_number_integer() || !add(element.get<int64_t>())) return wrong;
    }
  } else if (form_ && field->is_string()) {
    std::string_view rest = field->get_ref<const std::string&>();
    while (!rest.empty()) {
      const size_t comma = rest.find(',');
      if (!add(parse_integer(trim(rest.substr(0, comma))))) return wrong;
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  } else {
    return wrong;
  }
  return std::optional<std::vector<int64_t>>(std::move(ids));
}

bool sent_by_plain_form(const http::Request& request) {
  return !request.header("X-CSRF-Token") && !request.header("Authorization") &&
         (media_type_is(request, "application/x-www-form-urlencoded") ||
          media_type_is(request, "multipart/form-data"));
}

http::Response form_error_page(const pages::Renderer& pages, const http::Response& json) {
  auto document = nlohmann::json::parse(json.body, nullptr, false);
  const std::string message = document.is_object() && document["error"].is_string()
                                  ? document["error"].get<std::string>()
                                  : std::string(http::reason(json.status));
  http::Response page = http::Response::html(
      json.status, pages.error_page(json.status, http::reason(json.status), message, {}));
  for (const http::Header& header : json.headers) {
    if (!iequals(header.name, "Content-Type")) page.set(header.name, header.value);
  }
  page.route = json.route;
  return page;
}

PageTags& PageTags::add(std::string_view object) {
  if (!text_.empty()) text_ += ' ';
  text_ += object;
  return *this;
}

PageTags& PageTags::add(const std::vector<projection::Card>& cards) {
  for (const projection::Card& card : cards) add(video_object(card.id));
  return *this;
}

}  // namespace reel::app
