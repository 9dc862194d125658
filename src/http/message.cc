#include "http/message.h"

#include <unistd.h>

#include <utility>

#include "common/text.h"

namespace reel::http {

namespace {

std::optional<std::string_view> find_header(const std::vector<Header>& headers, std::string_view name) {
  for (const Header& header : headers) {
    if (iequals(header.name, name)) return std::string_view(header.value);
  }
  return std::nullopt;
}

Response with_body(int status, std::string_view content_type, std::string body) {
  Response response;
  response.status = status;
  response.headers.push_back({"Content-Type", std::string(content_type)});
  response.body = std::move(body);
  return response;
}

}  // namespace

std::string_view Request::path() const {
  std::string_view target_view = target;
  return target_view.substr(0, target_view.find('?'));
}

std::string_view Request::query() const {
  std::string_view target_view = target;
  size_t question = target_view.find('?');
  return question == std::string_view::npos ? std::string_view() : target_view.substr(question + 1);
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  return find_header(headers, name);
}

FileRange::FileRange(FileRange&& o) noexcept
    : fd(std::exchange(o.fd, -1)), offset(o.offset), length(o.length) {}

FileRange& FileRange::operator=(FileRange&& o) noexcept {
  if (this != &o) {
    if (fd >= 0) ::close(fd);
    fd = std::exchange(o.fd, -1);
    offset = o.offset;
    length = o.length;
  }
  return *this;
}

FileRange::~FileRange() {
  if (fd >= 0) ::close(fd);
}

Response& Response::add(std::string_view name, std::string_view value) {
  headers.push_back({std::string(name), std::string(value)});
  return *this;
}

Response& Response::set(std::string_view name, std::string_view value) {
  for (Header& header : headers) {
    if (iequals(header.name, name)) {
      header.value.assign(value);
      return *this;
    }
  }
  headers.push_back({std::string(name), std::string(value)});
  return *this;
}

std::optional<std::string_view> Response::header(std::string_view name) const {
  return find_header(headers, name);
}

Response Response::text(int status, std::string body) {
  return with_body(status, "text/plain; charset=utf-8", std::move(body));
}

Response Response::html(int status, std::string body) {
  return with_body(status, "text/html; charset=utf-8", std::move(body));
}

Response Response::json(int status, std::string body) {
  return with_body(status, "application/json", std::move(body));
}

std::string_view reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 507:
      return "Insufficient Storage";
    default:
      return "Unknown";
  }
}

}  // namespace reel::http
