#include "pages/template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace reel::pages {
namespace {

using ::testing::HasSubstr;

// Compiles `text` as the template "page" (file "page.html") beside `partials`.
Result<Template> compile(std::string text,
                         const std::vector<std::pair<std::string, std::string>>& partials = {}) {
  TemplateSources sources;
  sources.add("page", "page.html", std::move(text));
  for (const auto& [name, partial] : partials) sources.add(name, name + ".html", partial);
  return Template::compile(sources, "page");
}

std::string render(const std::string& text, const TemplateData& data,
                   const std::vector<std::pair<std::string, std::string>>& partials = {}) {
  auto compiled = compile(text, partials);
  EXPECT_TRUE(compiled.ok()) << compiled.error().message;
  return compiled ? compiled->render(data) : std::string();
}

std::string error_of(const std::string& text,
                     const std::vector<std::pair<std::string, std::string>>& partials = {}) {
  auto compiled = compile(text, partials);
  EXPECT_FALSE(compiled.ok());
  return compiled ? std::string() : compiled.error().message;
}

TEST(Template, EscapesVariablesAndLeavesRawOnesAlone) {
  TemplateData data;
  data.root().set("v", R"(<a href="x">Tom & 'Jerry'</a>)");
  EXPECT_EQ(render("[{{v}}]", data), "[&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;]");
  EXPECT_EQ(render("[{{{v}}}]", data), R"([<a href="x">Tom & 'Jerry'</a>])");
  EXPECT_EQ(render("[{{& v }}]", data), R"([<a href="x">Tom & 'Jerry'</a>])");
}

TEST(Template, KeepsUtf8AndMissingNamesRenderNothing) {
  TemplateData data;
  data.root().set("v", "Ünïcødé 日本語 🎬");
  EXPECT_EQ(render("{{ v }}|{{missing}}|{{{missing}}}", data), "Ünïcødé 日本語 🎬||");
}

TEST(Template, SectionIteratesAListAndInvertedShowsWhenEmpty) {
  TemplateData data;
  auto root = data.root();
  auto items = root.add_list("items");
  items.add_object().set("name", "a");
  items.add_object().set("name", "b<");
  root.add_list("none");
  EXPECT_EQ(render("{{#items}}({{name}}){{/items}}{{^items}}empty{{/items}}", data), "(a)(b&lt;)");
  EXPECT_EQ(render("{{#none}}({{name}}){{/none}}{{^none}}empty{{/none}}", data), "empty");
}

TEST(Template, ListOfStringsUsesDot) {
  TemplateData data;
  data.root().add_list("tags").add("cats").add("dogs & co");
  EXPECT_EQ(render("{{#tags}}<{{.}}>{{/tags}}", data), "<cats><dogs &amp; co>");
}

TEST(Template, BooleansStringsAndObjectsAsSections) {
  TemplateData data;
  auto root = data.root();
  root.set_bool("yes", true).set_bool("no", false).set("empty", "").set("word", "hi");
  root.add_object("person").set("name", "Ann");
  EXPECT_EQ(render("{{#yes}}Y{{/yes}}{{#no}}N{{/no}}{{^no}}n{{/no}}{{^yes}}y{{/yes}}", data), "Yn");
  EXPECT_EQ(render("{{#empty}}E{{/empty}}{{^empty}}e{{/empty}}{{#word}}[{{.}}]{{/word}}", data), "e[hi]");
  EXPECT_EQ(render("{{#person}}{{name}}{{/person}}{{^missing}}m{{/missing}}", data), "Annm");
}

TEST(Template, LooksUpNamesThroughTheContextStack) {
  TemplateData data;
  auto root = data.root();
  root.set("site", "Reel").set("name", "outer");
  auto items = root.add_list("items");
  items.add_object().set("name", "inner");
  items.add_object();
  EXPECT_EQ(render("{{#items}}{{site}}:{{name}};{{/items}}", data), "Reel:inner;Reel:outer;");
}

TEST(Template, DottedNamesResolveInsideWhatTheFirstPartFound) {
  TemplateData data;
  auto root = data.root();
  root.set("title", "root title");
  auto video = root.add_object("video");
  video.set("title", "video title");
  video.add_object("channel").set("name", "bob");
  root.add_list("list").add_object().set("x", "1");
  EXPECT_EQ(render("{{video.channel.name}}|{{video.title}}|{{video.missing}}|{{video.title.deeper}}", data),
            "bob|video title||");
  // A dotted section pushes only what it names, not the objects on the way.
  EXPECT_EQ(render("{{#video.channel}}{{name}} {{title}}{{/video.channel}}", data), "bob root title");
  // The first part found in an inner context does not fall back outwards for the rest.
  EXPECT_EQ(render("{{#video}}{{channel.title}}{{/video}}", data), "");
}

TEST(Template, OwnedValuesOutliveTheirSource) {
  TemplateData data;
  {
    std::string temporary = "copied text that is longer than a small string buffer";
    data.root().set_copy("copy", temporary).set_int("n", -42).set_written("w", [](std::string& out) {
      out.append("written");
    });
    temporary.assign(temporary.size(), 'x');
  }
  EXPECT_EQ(render("{{copy}} {{n}} {{w}}", data),
            "copied text that is longer than a small string buffer -42 written");
}

TEST(Template, TextAfterASectionIsNotPartOfIt) {
  TemplateData data;
  data.root().set_bool("no", false);
  EXPECT_EQ(render("a{{#no}}b{{/no}}c{{^no}}d{{/no}}e", data), "acde");
}

TEST(Template, TagsAloneOnTheirLinesTakeTheLineWithThem) {
  TemplateData data;
  data.root().add_list("items").add("a").add("b");
  EXPECT_EQ(render("<ul>\n  {{#items}}\n  <li>{{.}}</li>\n  {{/items}}\n</ul>\n", data),
            "<ul>\n  <li>a</li>\n  <li>b</li>\n</ul>\n");
  EXPECT_EQ(render("{{! comment }}\nx {{#items}}{{.}}{{/items}}\n", data), "x ab\n");
  EXPECT_EQ(render("  {{> part}}  \nend", data, {{"part", "P"}}), "Pend");
}

TEST(Template, EscapesLongValuesAcrossBlockBoundaries) {
  TemplateData data;
  // Specials at the start, inside and at the end of 16-byte blocks, and in an overlapping tail.
  std::string value =
      "<" + std::string(14, 'a') + "&" + std::string(16, 'b') + "\"" + std::string(3, 'c') + "'";
  data.root().set("v", value);
  EXPECT_EQ(render("{{v}}", data), "&lt;" + std::string(14, 'a') + "&amp;" + std::string(16, 'b') + "&quot;" +
                                       std::string(3, 'c') + "&#39;");
  std::string plain(40, 'x');
  data.root().set("plain", plain);
  EXPECT_EQ(render("{{plain}}", data), plain);
}

TEST(Template, SafeWrittenValuesAreNotEscaped) {
  TemplateData data;
  data.root().set_safe_written("path", [](std::string& out) { out.append("/watch/1-a"); });
  data.root().set_written("query", [](std::string& out) { out.append("?a=1&b=2"); });
  EXPECT_EQ(render("{{path}}{{query}}", data), "/watch/1-a?a=1&amp;b=2");
}

TEST(Template, CommentsRenderNothing) {
  TemplateData data;
  EXPECT_EQ(render("a{{! one }}b{{!\n multi\n line }}c", data), "abc");
}

TEST(Template, PartialsAreInlinedAndSeeTheContext) {
  TemplateData data;
  auto items = data.root().add_list("items");
  items.add_object().set("name", "x");
  items.add_object().set("name", "y");
  EXPECT_EQ(render("{{#items}}{{> item}}{{/items}}", data, {{"item", "<li>{{name}}</li>"}}),
            "<li>x</li><li>y</li>");
}

TEST(Template, PartialBindingReplacesTheSource) {
  TemplateSources sources;
  sources.add("layout", "layout.html", "<body>{{> content}}</body>");
  sources.add("home", "home.html", "{{greeting}}");
  PartialBinding binding{"content", "home"};
  auto compiled = Template::compile(sources, "layout", std::span(&binding, 1));
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;
  TemplateData data;
  data.root().set("greeting", "hello");
  EXPECT_EQ(compiled->render(data), "<body>hello</body>");
}

TEST(TemplateErrors, UnclosedSectionNamesFileAndLine) {
  EXPECT_EQ(error_of("a\nb\n{{#items}}\nc\n"), "page.html:3: section 'items' is never closed");
}

TEST(TemplateErrors, MismatchedAndStrayClosingTags) {
  EXPECT_EQ(error_of("{{#a}}\n\n{{/b}}"), "page.html:3: '{{/b}}' closes section 'a' opened on line 1");
  EXPECT_EQ(error_of("x\n{{/b}}"), "page.html:2: '{{/b}}' closes no open section");
}

TEST(TemplateErrors, UnclosedTagsAndBadNames) {
  EXPECT_EQ(error_of("one\ntwo {{name\n"), "page.html:2: tag opened with '{{' is never closed");
  EXPECT_EQ(error_of("{{{raw}}"), "page.html:1: tag opened with '{{{' is never closed");
  EXPECT_EQ(error_of("\n\n{{}}"), "page.html:3: invalid tag name ''");
  EXPECT_EQ(error_of("{{a b}}"), "page.html:1: invalid tag name 'a b'");
  EXPECT_EQ(error_of("{{a..b}}"), "page.html:1: invalid tag name 'a..b'");
  EXPECT_EQ(error_of("{{=<% %>=}}"), "page.html:1: set-delimiter tags are not supported");
}

TEST(TemplateErrors, LineNumbersCountNewlinesInsideTags) {
  EXPECT_EQ(error_of("{{!\ncomment\n}}\n{{/x}}"), "page.html:4: '{{/x}}' closes no open section");
}

TEST(TemplateErrors, ErrorInAPartialNamesThePartialFile) {
  EXPECT_EQ(error_of("{{> card}}", {{"card", "ok\n{{#x}}"}}), "card.html:2: section 'x' is never closed");
}

TEST(TemplateErrors, MissingPartialNamesTheIncludingLine) {
  EXPECT_EQ(error_of("a\n{{> nowhere}}"), "page.html:2: partial 'nowhere' not found (no nowhere.html)");
}

TEST(TemplateErrors, RecursivePartialIsAnErrorNotACrash) {
  std::string message = error_of("{{> loop}}", {{"loop", "x{{> loop}}"}});
  EXPECT_THAT(message, HasSubstr("loop.html:1: partials nested deeper than"));
}

TEST(TemplateErrors, SectionsNestedTooDeep) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "{{#a}}";
  EXPECT_THAT(error_of(text), HasSubstr("page.html:1: sections nested deeper than"));
}

TEST(TemplateErrors, MissingTemplate) {
  TemplateSources sources;
  auto compiled = Template::compile(sources, "nope");
  ASSERT_FALSE(compiled.ok());
  EXPECT_EQ(compiled.error().message, "template 'nope' not found");
}

TEST(TemplateSources, ReadsHtmlFilesOfADirectory) {
  auto directory =
      std::filesystem::temp_directory_path() / ("reel_template_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(directory);
  std::ofstream(directory / "page.html") << "<p>{{> part}}</p>";
  std::ofstream(directory / "part.html") << "{{x}}";
  std::ofstream(directory / "notes.txt") << "{{#broken";
  auto sources = TemplateSources::read_directory(directory.string());
  std::filesystem::remove_all(directory);
  ASSERT_TRUE(sources.ok()) << sources.error().message;
  EXPECT_EQ(sources->find("notes"), nullptr);
  ASSERT_NE(sources->find("part"), nullptr);
  EXPECT_EQ(sources->find("part")->file, (directory / "part.html").string());
  auto compiled = Template::compile(*sources, "page");
  ASSERT_TRUE(compiled.ok()) << compiled.error().message;
  TemplateData data;
  data.root().set("x", "1");
  EXPECT_EQ(compiled->render(data), "<p>1</p>");
}

TEST(TemplateSources, MissingDirectoryIsAnError) {
  auto sources = TemplateSources::read_directory("/nonexistent/reel/templates");
  ASSERT_FALSE(sources.ok());
  EXPECT_THAT(sources.error().message, HasSubstr("/nonexistent/reel/templates"));
}

}  // namespace
}  // namespace reel::pages
