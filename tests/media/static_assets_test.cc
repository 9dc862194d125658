// Versioned static names: which files get one, how names map back, how templates are rewritten.
#include "media/static_assets.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/fixtures.h"

namespace reel::media {
namespace {

namespace fs = std::filesystem;

TEST(StaticAssets, PlainNameUndoesOnlyTheVersionedShape) {
  EXPECT_EQ(StaticAssets::plain_name("css/reel.0123456789.css"), "css/reel.css");
  EXPECT_EQ(StaticAssets::plain_name("a.b.ffffffffff.js"), "a.b.js");
  EXPECT_EQ(StaticAssets::plain_name("css/reel.css"), std::nullopt);
  EXPECT_EQ(StaticAssets::plain_name("css/reel.012345678.css"), std::nullopt);    // 9 digits
  EXPECT_EQ(StaticAssets::plain_name("css/reel.0123456789a.css"), std::nullopt);  // 11
  EXPECT_EQ(StaticAssets::plain_name("css/reel.01234567XY.css"), std::nullopt);
  EXPECT_EQ(StaticAssets::plain_name("css/.0123456789.css"), std::nullopt);   // no stem
  EXPECT_EQ(StaticAssets::plain_name("css/reel.0123456789."), std::nullopt);  // no extension
  EXPECT_EQ(StaticAssets::plain_name(""), std::nullopt);
}

TEST(StaticAssets, EveryFileGetsANameFromItsBytesAndTemplatesAreRewritten) {
  testing::TempDir dir;
  fs::create_directories(dir.path() / "css");
  fs::create_directories(dir.path() / "js");
  std::ofstream(dir.path() / "css" / "reel.css") << "body{}";
  std::ofstream(dir.path() / "js" / "a.js") << "1";
  std::ofstream(dir.path() / "js" / "b.js") << "2";
  std::ofstream(dir.path() / "LICENSE") << "text";
  auto assets = StaticAssets::open({dir.path().string()});
  ASSERT_TRUE(assets) << assets.error().message;

  const std::string* css = assets->versioned("css/reel.css");
  ASSERT_NE(css, nullptr);
  EXPECT_EQ(StaticAssets::plain_name(*css), "css/reel.css");
  ASSERT_NE(assets->versioned("js/a.js"), nullptr);
  ASSERT_NE(assets->versioned("js/b.js"), nullptr);
  EXPECT_NE(*assets->versioned("js/a.js"), *assets->versioned("js/b.js") + "x");
  EXPECT_NE(assets->versioned("js/a.js")->substr(5), assets->versioned("js/b.js")->substr(5));
  EXPECT_EQ(assets->versioned("LICENSE"), nullptr);  // no extension: keeps its plain name
  EXPECT_EQ(assets->versioned("js/missing.js"), nullptr);

  const std::string html = R"(<link href="/static/css/reel.css"><script src="/static/js/a.js?x=1"></script>)"
                           R"(<img src="/static/img/none.svg"> /static/ "/static/css/reel.css")";
  EXPECT_EQ(assets->rewrite(html),
            R"(<link href="/static/)" + *css + R"("><script src="/static/)" + *assets->versioned("js/a.js") +
                R"(?x=1"></script><img src="/static/img/none.svg"> /static/ "/static/)" + *css + R"(")");

  // Changed bytes, a new name.
  std::ofstream(dir.path() / "css" / "reel.css") << "body{color:red}";
  auto again = StaticAssets::open({dir.path().string()});
  ASSERT_TRUE(again);
  EXPECT_NE(*again->versioned("css/reel.css"), *css);
}

TEST(StaticAssets, AMissingRootIsAnError) {
  EXPECT_FALSE(StaticAssets::open({"/nonexistent/static"}));
}

}  // namespace
}  // namespace reel::media
