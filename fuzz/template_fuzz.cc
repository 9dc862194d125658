// Fuzzes the template engine (pages/template.h): a page and two partials ("card", "row") of
// fuzzed text, compiled and, when they compile, rendered from a fixed value tree whose one string
// with markup ("html") is the value an attacker controls in production (a title, a description).
// Invariants: a compile error names the file and line ("page.html:3: ..."); a render appends to
// what `out` held and gives the same bytes every time; a page without tags renders as itself;
// and when no source holds '<' or a raw tag ({{{ }}} or {{& }}), neither does the output: escaped
// values cannot inject markup.
#include <fuzzer/FuzzedDataProvider.h>

#include <string>

#include "check.h"
#include "pages/template.h"

namespace {

using reel::pages::Template;
using reel::pages::TemplateData;
using reel::pages::TemplateSources;

// Lists of more than one item shadow their own name inside each item (every item has an empty
// "items"), so nested sections cannot multiply the output: {{#items}}{{#items}}... renders the
// outer list once.
const TemplateData& data() {
  static TemplateData tree;
  static const bool built = [] {
    auto root = tree.root();
    root.set("title", "Reel").set("html", R"(<script>alert("x") & 'y'</script>)").set_bool("yes", true);
    root.set_bool("no", false).set("empty", "").set_int("count", 42);
    root.add_object("video").set("title", "<b>bold</b>").add_object("channel").set("name", "Ann & Bob");
    auto items = root.add_list("items");
    for (const char* name : {"a", "b<", "c\""}) {
      auto item = items.add_object();
      item.set("name", name);
      item.add_list("items");
    }
    root.add_list("tags").add("cats & dogs");
    return true;
  }();
  FUZZ_CHECK(built);
  return tree;
}

// A raw tag is "{{{" or "{{" then '&' after any blanks the engine trims (common/text.h's trim:
// "{{\r\n& html}}" is raw too).
bool holds_markup_or_raw_tag(std::string_view text) {
  if (text.find('<') != std::string_view::npos) return true;
  for (size_t open = text.find("{{"); open != std::string_view::npos; open = text.find("{{", open + 2)) {
    const size_t sigil = text.find_first_not_of(" \t\r\n\f\v", open + 2);
    if (sigil != std::string_view::npos && (text[sigil] == '{' || text[sigil] == '&')) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data_bytes, size_t size) {
  FuzzedDataProvider input(data_bytes, size);
  // Partials are short: a page of n includes of a card of m includes of a row compiles to n*m rows.
  const std::string card = input.ConsumeRandomLengthString(128);
  const std::string row = input.ConsumeRandomLengthString(128);
  const std::string page = input.ConsumeRemainingBytesAsString();
  TemplateSources sources;
  sources.add("page", "page.html", page);
  sources.add("card", "card.html", card);
  sources.add("row", "row.html", row);

  const auto compiled = Template::compile(sources, "page");
  if (!compiled) {
    const std::string& message = compiled.error().message;
    FUZZ_CHECK(message.starts_with("page.html:") || message.starts_with("card.html:") ||
               message.starts_with("row.html:"));
    return 0;
  }
  std::string out = "prefix";
  compiled->render(data(), out);
  FUZZ_CHECK(out.starts_with("prefix"));
  const std::string rendered = compiled->render(data());
  FUZZ_CHECK(out.substr(6) == rendered);
  if (page.find("{{") == std::string::npos) FUZZ_CHECK(rendered == page);
  // Tags hide text between {{ and }}, so a '<' could only come out of a value.
  const bool sources_quiet =
      !holds_markup_or_raw_tag(page) && !holds_markup_or_raw_tag(card) && !holds_markup_or_raw_tag(row);
  if (sources_quiet) FUZZ_CHECK(rendered.find('<') == std::string::npos);
  return 0;
}
