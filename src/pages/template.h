// Template engine for Reel's pages: a Mustache subset compiled once, at startup, into a flat list
// of instructions, and rendered from a cheap value tree (TemplateData) into one std::string.
//
// Supported tags:
//   {{name}}            the value, HTML-escaped (& < > " ' become entities)
//   {{{name}}} {{&name}} the value, raw
//   {{#name}}…{{/name}} a list renders its body once per item (the item pushed on the context
//                       stack); true, an object or a non-empty string renders it once; false,
//                       an empty list, an empty string or a missing name renders nothing
//   {{^name}}…{{/name}} renders its body exactly when {{#name}} would not
//   {{> name}}          the template source `name`, inlined at compile time
//   {{! comment }}      nothing
// Names are dotted paths ("video.channel.name") or "." (the current item); the first part is
// looked up from the innermost context outwards, the rest inside what it found. A section,
// comment or partial tag alone on its line removes that line from the output (as in Mustache's
// "standalone" rule; partials are not re-indented). Set-delimiter tags and lambdas are not
// supported.
//
// Thread-safety: a compiled Template is immutable; render() may run on many threads at once.
// TemplateData is a per-render value, used by one thread.
// Failure: compile() returns an Error "file:line: what is wrong" for a syntax error, a missing
// partial or partials nested too deep (a partial that includes itself); render() cannot fail.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"

namespace reel::pages {

// The values a template reads: a tree of objects, lists, strings and booleans, stored in two
// flat buffers (nodes and owned text) so building one costs a few appends and no per-node
// allocation. Keys are string literals; borrowed strings are views that must outlive the render.
// Handles (Object, List) stay valid while more values are added.
class TemplateData {
 public:
  class List;

  // Keys are compared by this hash first, so a lookup rarely compares strings.
  static constexpr uint32_t key_hash(std::string_view key) {
    uint32_t hash = 2166136261u;  // FNV-1a
    for (char c : key) hash = (hash ^ static_cast<uint8_t>(c)) * 16777619u;
    return hash;
  }

  // A member name: a string literal, hashed at compile time.
  class Key {
   public:
    template <size_t size>
    consteval Key(const char (&name)[size]) : name_(name, size - 1), hash_(key_hash(name_)) {}
    std::string_view name() const { return name_; }
    uint32_t hash() const { return hash_; }

   private:
    std::string_view name_;
    uint32_t hash_;
  };

  class Object {
   public:
    // A string the data does not own: `value` must outlive every render of this data.
    Object& set(Key key, std::string_view value);
    // A string copied into the data.
    Object& set_copy(Key key, std::string_view value);
    Object& set_bool(Key key, bool value);
    Object& set_int(Key key, int64_t value);
    // A string written by `write(std::string& out)` (which appends to `out`) into the data's own
    // text, without a temporary string.
    template <class Writer>
    Object& set_written(Key key, Writer&& write) {
      size_t begin = data_->begin_text();
      write(data_->text_);
      data_->add_text_child(index_, key, begin, false);
      return *this;
    }
    // Like set_written, for a writer whose output never contains & < > " or ' (numbers,
    // durations, percent-encoded paths): {{key}} then skips escaping it.
    template <class Writer>
    Object& set_safe_written(Key key, Writer&& write) {
      size_t begin = data_->begin_text();
      write(data_->text_);
      data_->add_text_child(index_, key, begin, true);
      return *this;
    }
    Object add_object(Key key);
    List add_list(Key key);

   private:
    friend class TemplateData;
    Object(TemplateData* data, uint32_t index) : data_(data), index_(index) {}
    TemplateData* data_;
    uint32_t index_;
  };

  class List {
   public:
    Object add_object();
    // A string item that the data does not own.
    List& add(std::string_view value);

   private:
    friend class TemplateData;
    List(TemplateData* data, uint32_t index) : data_(data), index_(index) {}
    TemplateData* data_;
    uint32_t index_;
  };

  // `expected_nodes` and `expected_text_bytes` size the buffers up front (they grow if exceeded).
  explicit TemplateData(size_t expected_nodes = 64, size_t expected_text_bytes = 1024);
  TemplateData(const TemplateData&) = delete;
  TemplateData& operator=(const TemplateData&) = delete;

  // The top-level object: the context a render starts with.
  Object root() { return Object(this, 0); }
  // Empties the data for reuse, keeping its buffers (objects handed out before become invalid).
  void clear();

 private:
  friend class Template;
  friend class TemplateCompiler;
  enum class Kind : uint8_t { borrowed, owned, boolean, list, object };
  static constexpr uint32_t none = UINT32_MAX;
  struct Node {
    std::string_view key;                 // name in the parent object; empty for list items
    const char* borrowed_text = nullptr;  // Kind::borrowed
    uint32_t text_offset = 0;             // Kind::owned: into text_
    uint32_t text_size = 0;               // borrowed/owned: bytes; boolean: 0 or 1; list: items
    uint32_t first_child = none;          // list items or object members, linked by next
    uint32_t last_child = none;
    uint32_t next = none;
    Kind kind = Kind::object;
    bool contiguous_children = true;  // children are the nodes first_child..last_child
    bool html_safe = false;           // text needs no escaping
  };

  uint32_t add_child(uint32_t parent, Key key, Kind kind) {
    auto index = static_cast<uint32_t>(nodes_.size());
    Node& node = nodes_.emplace_back();
    node.key = key.name();
    node.kind = kind;
    key_hashes_.push_back(key.hash());
    Node& owner = nodes_[parent];
    if (owner.last_child == none) {
      owner.first_child = index;
    } else {
      nodes_[owner.last_child].next = index;
      owner.contiguous_children = owner.contiguous_children && owner.last_child + 1 == index;
    }
    owner.last_child = index;
    if (owner.kind == Kind::list) ++owner.text_size;
    return index;
  }
  size_t begin_text() const { return text_.size(); }
  void add_text_child(uint32_t parent, Key key, size_t text_begin, bool html_safe);
  std::string_view text_of(const Node& node) const;
  bool truthy(const Node& node) const;
  uint32_t find_member(uint32_t object, std::string_view key, uint32_t hash) const;

  std::vector<Node> nodes_;
  std::vector<uint32_t> key_hashes_;  // key_hash of each node's key, apart so lookups scan it densely
  std::string text_;
};

// Template sources by name: each page and partial, with the file name errors should cite.
class TemplateSources {
 public:
  // Every "*.html" file directly in `directory`, named by its file name without ".html"
  // ("card.html" is the partial {{> card}}). Error: the directory or a file cannot be read.
  static Result<TemplateSources> read_directory(const std::string& directory);

  void add(std::string name, std::string file, std::string text);
  // Replaces every source's text with `change(text)`.
  void transform(const std::function<std::string(std::string_view)>& change);

  struct Source {
    std::string file;  // for error messages: "templates/card.html"
    std::string text;
  };
  // nullptr when there is no source of that name.
  const Source* find(std::string_view name) const;

 private:
  std::unordered_map<std::string, Source> sources_;
};

// A partial name bound to a source of another name while compiling one template: the layout
// includes {{> content}}, and compiling the page "home" binds content to the source "home".
struct PartialBinding {
  std::string_view partial;
  std::string_view source;
};

class Template {
 public:
  // Compiles the source `name` with every partial it includes. Error: "file:line: message".
  static Result<Template> compile(const TemplateSources& sources, std::string_view name,
                                  std::span<const PartialBinding> bindings = {});

  // Appends the output for `data` to `out`.
  void render(const TemplateData& data, std::string& out) const;
  std::string render(const TemplateData& data) const;

  // Bytes of literal text in the template (each section body counted once): a hint for
  // sizing the output buffer.
  size_t literal_bytes() const { return literal_bytes_; }

 private:
  friend class TemplateCompiler;
  enum class Op : uint8_t { text, escaped, raw, section, inverted };
  struct Instruction {
    Op op;
    uint32_t offset;  // text: literal bytes in pool_
    uint32_t size;
    uint32_t first_segment;  // tags: the name's dotted parts in segments_
    uint32_t segment_count;  // 0 means "." (the current context)
    uint32_t end;            // section/inverted: index of the first instruction after the body
  };
  struct Segment {
    uint32_t offset;  // in pool_
    uint32_t size;
    uint32_t hash;  // TemplateData::key_hash of the part
  };
  // Sections nest at most this deep, which bounds the context stack of a render.
  static constexpr int max_depth = 32;

  // Where an instruction's name was found in the innermost object context last time.
  struct MemberGuess {
    uint32_t position = TemplateData::none;  // among the context's members; none when unknown
    // The key that matched there. Keys are string literals, so list items built by the same code
    // share this pointer: a member whose key has the same pointer and size is the same name,
    // without comparing the bytes again.
    const char* key = nullptr;
  };
  void render_range(const TemplateData& data, uint32_t begin, uint32_t end, uint32_t* stack, int depth,
                    MemberGuess* member_guesses, std::string& out) const;
  uint32_t lookup(const TemplateData& data, uint32_t instruction, const uint32_t* stack, int depth,
                  MemberGuess* member_guesses) const;

  std::vector<Instruction> code_;
  std::vector<Segment> segments_;
  std::string pool_;  // literal text and names, referenced by offset so a Template moves freely
  size_t literal_bytes_ = 0;
};

// Appends `text` to `out` with & < > " ' replaced by HTML entities.
void append_escaped(std::string& out, std::string_view text);

}  // namespace reel::pages
