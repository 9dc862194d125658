#include "pages/template.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/text.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace reel::pages {

// ---- TemplateData ----

TemplateData::TemplateData(size_t expected_nodes, size_t expected_text_bytes) {
  nodes_.reserve(expected_nodes);
  key_hashes_.reserve(expected_nodes);
  text_.reserve(expected_text_bytes);
  nodes_.push_back(Node{});  // the root object
  key_hashes_.push_back(key_hash({}));
}

void TemplateData::clear() {
  nodes_.resize(1);
  nodes_[0] = Node{};
  key_hashes_.resize(1);
  text_.clear();
}

void TemplateData::add_text_child(uint32_t parent, Key key, size_t text_begin, bool html_safe) {
  uint32_t index = add_child(parent, key, Kind::owned);
  nodes_[index].html_safe = html_safe;
  nodes_[index].text_offset = static_cast<uint32_t>(text_begin);
  nodes_[index].text_size = static_cast<uint32_t>(text_.size() - text_begin);
}

std::string_view TemplateData::text_of(const Node& node) const {
  switch (node.kind) {
    case Kind::borrowed:
      return {node.borrowed_text, node.text_size};
    case Kind::owned:
      return {text_.data() + node.text_offset, node.text_size};
    case Kind::boolean:
      return node.text_size != 0 ? "true" : "false";
    case Kind::list:
    case Kind::object:
      break;
  }
  return {};
}

bool TemplateData::truthy(const Node& node) const {
  return node.kind == Kind::object || node.text_size != 0;
}

uint32_t TemplateData::find_member(uint32_t object, std::string_view key, uint32_t hash) const {
  const Node& parent = nodes_[object];
  if (parent.first_child == none) return none;
  if (parent.contiguous_children) {
    for (uint32_t child = parent.first_child; child <= parent.last_child; ++child) {
      if (key_hashes_[child] == hash && nodes_[child].key == key) return child;
    }
    return none;
  }
  for (uint32_t child = parent.first_child; child != none; child = nodes_[child].next) {
    if (key_hashes_[child] == hash && nodes_[child].key == key) return child;
  }
  return none;
}

TemplateData::Object& TemplateData::Object::set(Key key, std::string_view value) {
  uint32_t index = data_->add_child(index_, key, Kind::borrowed);
  data_->nodes_[index].borrowed_text = value.data();
  data_->nodes_[index].text_size = static_cast<uint32_t>(value.size());
  return *this;
}

TemplateData::Object& TemplateData::Object::set_copy(Key key, std::string_view value) {
  return set_written(key, [value](std::string& out) { out.append(value); });
}

TemplateData::Object& TemplateData::Object::set_bool(Key key, bool value) {
  uint32_t index = data_->add_child(index_, key, Kind::boolean);
  data_->nodes_[index].text_size = value ? 1 : 0;
  return *this;
}

TemplateData::Object& TemplateData::Object::set_int(Key key, int64_t value) {
  return set_safe_written(key, [value](std::string& out) {
    char digits[24];
    out.append(digits, std::to_chars(digits, digits + sizeof digits, value).ptr);
  });
}

TemplateData::Object TemplateData::Object::add_object(Key key) {
  return Object(data_, data_->add_child(index_, key, Kind::object));
}

TemplateData::List TemplateData::Object::add_list(Key key) {
  return List(data_, data_->add_child(index_, key, Kind::list));
}

TemplateData::Object TemplateData::List::add_object() {
  return Object(data_, data_->add_child(index_, Key(""), Kind::object));
}

TemplateData::List& TemplateData::List::add(std::string_view value) {
  uint32_t index = data_->add_child(index_, Key(""), Kind::borrowed);
  data_->nodes_[index].borrowed_text = value.data();
  data_->nodes_[index].text_size = static_cast<uint32_t>(value.size());
  return *this;
}

// ---- TemplateSources ----

Result<TemplateSources> TemplateSources::read_directory(const std::string& directory) {
  namespace fs = std::filesystem;
  TemplateSources sources;
  std::error_code error;
  fs::directory_iterator entries(directory, error);
  if (error) return Error{"cannot read template directory " + directory + ": " + error.message()};
  for (const fs::directory_entry& entry : entries) {
    const fs::path& path = entry.path();
    if (path.extension() != ".html" || !entry.is_regular_file(error)) continue;
    std::ifstream file(path, std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    if (!file || !text) return Error{"cannot read template " + path.string()};
    sources.add(path.stem().string(), path.string(), std::move(text).str());
  }
  return sources;
}

void TemplateSources::add(std::string name, std::string file, std::string text) {
  sources_.insert_or_assign(std::move(name), Source{std::move(file), std::move(text)});
}

void TemplateSources::transform(const std::function<std::string(std::string_view)>& change) {
  for (auto& [name, source] : sources_) source.text = change(source.text);
}

const TemplateSources::Source* TemplateSources::find(std::string_view name) const {
  auto found = sources_.find(std::string(name));
  return found == sources_.end() ? nullptr : &found->second;
}

// ---- Compiler ----

namespace {

constexpr int max_partial_depth = 16;

bool valid_name(std::string_view name) {
  if (name == ".") return true;
  if (name.empty() || name.front() == '.' || name.back() == '.' || name.find("..") != name.npos) return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '{' || c == '}';
  });
}

}  // namespace

class TemplateCompiler {
 public:
  TemplateCompiler(const TemplateSources& sources, std::span<const PartialBinding> bindings)
      : sources_(sources), bindings_(bindings) {}

  Result<Template> compile(std::string_view name) {
    const TemplateSources::Source* source = sources_.find(name);
    if (source == nullptr) return Error{"template '" + std::string(name) + "' not found"};
    Status compiled = compile_source(*source, 0, 0);
    if (!compiled) return compiled.error();
    return std::move(result_);
  }

 private:
  struct OpenSection {
    std::string_view name;
    uint32_t instruction;
    int line;
  };

  // Appends the instructions of `source`; `partial_depth` counts the partials around it and
  // `section_depth` the sections open around it (in including files).
  Status compile_source(const TemplateSources::Source& source, int partial_depth, int section_depth) {
    std::string_view text = source.text;
    std::vector<OpenSection> open;
    int line = 1;
    size_t position = 0;
    auto fail = [&](int at_line, const std::string& message) {
      return Error{source.file + ":" + std::to_string(at_line) + ": " + message};
    };
    while (position < text.size()) {
      size_t tag_start = text.find("{{", position);
      if (tag_start == text.npos) {
        add_text(text.substr(position));
        break;
      }
      line += static_cast<int>(std::count(text.begin() + position, text.begin() + tag_start, '\n'));
      bool triple = text.substr(tag_start).starts_with("{{{");
      std::string_view closer = triple ? "}}}" : "}}";
      size_t content_start = tag_start + (triple ? 3 : 2);
      size_t tag_end = text.find(closer, content_start);
      if (tag_end == text.npos) {
        return fail(line, "tag opened with '" + std::string(triple ? "{{{" : "{{") + "' is never closed");
      }
      std::string_view content = text.substr(content_start, tag_end - content_start);
      int tag_line = line;
      line += static_cast<int>(std::count(content.begin(), content.end(), '\n'));
      size_t after_tag = tag_end + closer.size();

      char sigil = triple ? '{' : trim(content).empty() ? '\0' : trim(content).front();
      std::string_view name = trim(content);
      if (sigil == '#' || sigil == '^' || sigil == '/' || sigil == '>' || sigil == '!' || sigil == '&' ||
          sigil == '=') {
        name = trim(name.substr(1));
      }
      // A section, comment or partial tag alone on its line takes the whole line with it, so
      // templates can put them on lines of their own without leaving blank lines in the output.
      Line tag_line_extent = standalone_extent(text, tag_start, after_tag);
      bool takes_line = (sigil == '#' || sigil == '^' || sigil == '/' || sigil == '>' || sigil == '!') &&
                        tag_line_extent.standalone && tag_line_extent.begin >= position;
      add_text(text.substr(position, (takes_line ? tag_line_extent.begin : tag_start) - position));
      position = takes_line ? tag_line_extent.end : after_tag;
      if (takes_line && tag_line_extent.end > after_tag && text[tag_line_extent.end - 1] == '\n') ++line;

      if (sigil == '!') continue;
      if (sigil == '=') return fail(tag_line, "set-delimiter tags are not supported");
      if (!valid_name(name)) {
        return fail(tag_line, "invalid tag name '" + std::string(trim(content)) + "'");
      }
      switch (sigil) {
        case '#':
        case '^': {
          if (section_depth + static_cast<int>(open.size()) >= Template::max_depth) {
            return fail(tag_line, "sections nested deeper than " + std::to_string(Template::max_depth));
          }
          open.push_back(
              {name, add_tag(sigil == '#' ? Template::Op::section : Template::Op::inverted, name), tag_line});
          break;
        }
        case '/': {
          if (open.empty()) return fail(tag_line, "'{{/" + std::string(name) + "}}' closes no open section");
          if (open.back().name != name) {
            return fail(tag_line, "'{{/" + std::string(name) + "}}' closes section '" +
                                      std::string(open.back().name) + "' opened on line " +
                                      std::to_string(open.back().line));
          }
          result_.code_[open.back().instruction].end = static_cast<uint32_t>(result_.code_.size());
          first_mergeable_ = result_.code_.size();
          open.pop_back();
          break;
        }
        case '>': {
          std::string_view source_name = name;
          for (const PartialBinding& binding : bindings_) {
            if (binding.partial == name) source_name = binding.source;
          }
          const TemplateSources::Source* partial = sources_.find(source_name);
          if (partial == nullptr) {
            return fail(tag_line, "partial '" + std::string(name) + "' not found (no " +
                                      std::string(source_name) + ".html)");
          }
          if (partial_depth >= max_partial_depth) {
            return fail(tag_line, "partials nested deeper than " + std::to_string(max_partial_depth) +
                                      " (does '" + std::string(name) + "' include itself?)");
          }
          Status included =
              compile_source(*partial, partial_depth + 1, section_depth + static_cast<int>(open.size()));
          if (!included) return included;
          break;
        }
        default:
          add_tag(sigil == '{' || sigil == '&' ? Template::Op::raw : Template::Op::escaped, name);
      }
    }
    if (!open.empty()) {
      return fail(open.back().line, "section '" + std::string(open.back().name) + "' is never closed");
    }
    return {};
  }

  struct Line {
    bool standalone;  // only blanks around the tag on its line
    size_t begin;     // start of the tag's line
    size_t end;       // just after the line's newline (or the end of the text)
  };
  static Line standalone_extent(std::string_view text, size_t tag_start, size_t after_tag) {
    size_t previous_newline = tag_start == 0 ? text.npos : text.rfind('\n', tag_start - 1);
    size_t begin = previous_newline == text.npos ? 0 : previous_newline + 1;
    size_t newline = text.find('\n', after_tag);
    size_t end = newline == text.npos ? text.size() : newline + 1;
    auto blank = [](std::string_view part) { return part.find_first_not_of(" \t\r") == part.npos; };
    bool standalone =
        blank(text.substr(begin, tag_start - begin)) &&
        blank(text.substr(after_tag, (newline == text.npos ? text.size() : newline) - after_tag));
    return {standalone, begin, end};
  }

  void add_text(std::string_view literal) {
    if (literal.empty()) return;
    auto& code = result_.code_;
    auto& pool = result_.pool_;
    result_.literal_bytes_ += literal.size();
    if (code.size() > first_mergeable_ && code.back().op == Template::Op::text &&
        code.back().offset + code.back().size == pool.size()) {
      code.back().size += static_cast<uint32_t>(literal.size());
    } else {
      code.push_back({Template::Op::text, static_cast<uint32_t>(pool.size()),
                      static_cast<uint32_t>(literal.size()), 0, 0, 0});
    }
    pool.append(literal);
  }

  uint32_t add_tag(Template::Op op, std::string_view name) {
    auto& segments = result_.segments_;
    auto first_segment = static_cast<uint32_t>(segments.size());
    if (name != ".") {
      size_t start = 0;
      while (true) {
        size_t dot = name.find('.', start);
        std::string_view part = name.substr(start, dot - start);
        segments.push_back({static_cast<uint32_t>(result_.pool_.size()), static_cast<uint32_t>(part.size()),
                            TemplateData::key_hash(part)});
        result_.pool_.append(part);
        if (dot == name.npos) break;
        start = dot + 1;
      }
    }
    auto index = static_cast<uint32_t>(result_.code_.size());
    result_.code_.push_back(
        {op, 0, 0, first_segment, static_cast<uint32_t>(segments.size()) - first_segment, index + 1});
    return index;
  }

  const TemplateSources& sources_;
  std::span<const PartialBinding> bindings_;
  Template result_;
  // Text may extend the previous text instruction only if no section ended after it.
  size_t first_mergeable_ = 0;
};

Result<Template> Template::compile(const TemplateSources& sources, std::string_view name,
                                   std::span<const PartialBinding> bindings) {
  return TemplateCompiler(sources, bindings).compile(name);
}

// ---- Rendering ----

namespace {

// Index of the first byte of `text` that HTML escaping replaces, or text.size(). Values are
// mostly plain text, so this scan is the hot loop of rendering: SSE2 checks 16 bytes at a time.
constexpr auto escapable_bytes = [] {
  std::array<bool, 256> table{};
  for (unsigned char c : {'&', '<', '>', '"', '\''}) table[c] = true;
  return table;
}();

size_t find_escapable(std::string_view text) {
  const char* data = text.data();
  size_t size = text.size();
#if defined(__SSE2__)
  if (size >= 16) {
    const __m128i amp = _mm_set1_epi8('&'), lt = _mm_set1_epi8('<'), gt = _mm_set1_epi8('>'),
                  quot = _mm_set1_epi8('"'), apos = _mm_set1_epi8('\'');
    auto hits_at = [&](size_t at) {
      __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + at));
      __m128i hits =
          _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, amp), _mm_cmpeq_epi8(bytes, lt)),
                       _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(bytes, gt), _mm_cmpeq_epi8(bytes, quot)),
                                    _mm_cmpeq_epi8(bytes, apos)));
      return _mm_movemask_epi8(hits);
    };
    // 16 bytes at a time; the last block overlaps the one before so no byte is left over.
    for (size_t at = 0;; at += 16) {
      if (at + 16 > size) at = size - 16;
      if (int mask = hits_at(at); mask != 0) return at + static_cast<size_t>(__builtin_ctz(mask));
      if (at + 16 == size) return size;
    }
  }
#endif
  for (size_t i = 0; i < size; ++i) {
    if (escapable_bytes[static_cast<unsigned char>(data[i])]) return i;
  }
  return size;
}

std::string_view entity_for(char c) {
  switch (c) {
    case '&':
      return "&amp;";
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    case '"':
      return "&quot;";
    default:
      return "&#39;";
  }
}

}  // namespace

void append_escaped(std::string& out, std::string_view text) {
  while (true) {
    size_t special = find_escapable(text);
    out.append(text.data(), special);
    if (special == text.size()) return;
    out.append(entity_for(text[special]));
    text.remove_prefix(special + 1);
  }
}

uint32_t Template::lookup(const TemplateData& data, uint32_t instruction, const uint32_t* stack, int depth,
                          MemberGuess* member_guesses) const {
  const Instruction& tag = code_[instruction];
  if (tag.segment_count == 0) return stack[depth - 1];
  const Segment* segment = &segments_[tag.first_segment];
  const auto name = [this](const Segment& part) {
    return std::string_view(pool_.data() + part.offset, part.size);
  };
  // Only objects have members: the search starts at the innermost object context (a section
  // over a string or `true` pushes a context that is skipped).
  int frame = depth - 1;
  while (frame >= 0 && data.nodes_[stack[frame]].kind != TemplateData::Kind::object) --frame;
  if (frame < 0) return TemplateData::none;
  uint32_t found = TemplateData::none;
  // Items of a list are built alike, so a name is usually the same member of that object as for
  // the previous item: try that member before searching.
  const TemplateData::Node& innermost = data.nodes_[stack[frame]];
  MemberGuess& guess = member_guesses[instruction];
  if (guess.position != TemplateData::none && innermost.contiguous_children &&
      innermost.first_child != TemplateData::none) {
    uint32_t member = innermost.first_child + guess.position;
    if (member <= innermost.last_child) {
      std::string_view key = data.nodes_[member].key;
      if (key.data() == guess.key && key.size() == segment[0].size) {
        found = member;
      } else if (data.key_hashes_[member] == segment[0].hash && key == name(segment[0])) {
        found = member;
        guess.key = key.data();
      }
    }
  }
  if (found == TemplateData::none) {
    found = data.find_member(stack[frame], name(segment[0]), segment[0].hash);
    if (found != TemplateData::none && innermost.contiguous_children) {
      guess = {found - innermost.first_child, data.nodes_[found].key.data()};
    }
  }
  for (--frame; frame >= 0 && found == TemplateData::none; --frame) {
    if (data.nodes_[stack[frame]].kind == TemplateData::Kind::object) {
      found = data.find_member(stack[frame], name(segment[0]), segment[0].hash);
    }
  }
  for (uint32_t part = 1; part < tag.segment_count && found != TemplateData::none; ++part) {
    if (data.nodes_[found].kind != TemplateData::Kind::object) return TemplateData::none;
    found = data.find_member(found, name(segment[part]), segment[part].hash);
  }
  return found;
}

void Template::render_range(const TemplateData& data, uint32_t begin, uint32_t end, uint32_t* stack,
                            int depth, MemberGuess* member_guesses, std::string& out) const {
  for (uint32_t i = begin; i < end;) {
    const Instruction& instruction = code_[i];
    switch (instruction.op) {
      case Op::text:
        out.append(pool_.data() + instruction.offset, instruction.size);
        ++i;
        break;
      case Op::escaped:
      case Op::raw: {
        uint32_t found = lookup(data, i, stack, depth, member_guesses);
        if (found != TemplateData::none) {
          std::string_view value = data.text_of(data.nodes_[found]);
          if (instruction.op == Op::escaped && !data.nodes_[found].html_safe) {
            append_escaped(out, value);
          } else {
            out.append(value);
          }
        }
        ++i;
        break;
      }
      case Op::section: {
        uint32_t found = lookup(data, i, stack, depth, member_guesses);
        if (found != TemplateData::none) {
          const TemplateData::Node& node = data.nodes_[found];
          if (node.kind == TemplateData::Kind::list) {
            for (uint32_t item = node.first_child; item != TemplateData::none;
                 item = data.nodes_[item].next) {
              stack[depth] = item;
              render_range(data, i + 1, instruction.end, stack, depth + 1, member_guesses, out);
            }
          } else if (node.kind == TemplateData::Kind::boolean) {
            if (node.text_size != 0)
              render_range(data, i + 1, instruction.end, stack, depth, member_guesses, out);
          } else if (data.truthy(node)) {
            stack[depth] = found;
            render_range(data, i + 1, instruction.end, stack, depth + 1, member_guesses, out);
          }
        }
        i = instruction.end;
        break;
      }
      case Op::inverted: {
        uint32_t found = lookup(data, i, stack, depth, member_guesses);
        if (found == TemplateData::none || !data.truthy(data.nodes_[found])) {
          render_range(data, i + 1, instruction.end, stack, depth, member_guesses, out);
        }
        i = instruction.end;
        break;
      }
    }
  }
}

void Template::render(const TemplateData& data, std::string& out) const {
  uint32_t stack[max_depth + 1];
  stack[0] = 0;  // the root object
  std::vector<MemberGuess> member_guesses(code_.size());
  render_range(data, 0, static_cast<uint32_t>(code_.size()), stack, 1, member_guesses.data(), out);
}

std::string Template::render(const TemplateData& data) const {
  std::string out;
  out.reserve(literal_bytes_ + literal_bytes_ / 2 + data.text_.size());
  render(data, out);
  return out;
}

}  // namespace reel::pages
