// The Connection suite, run unchanged against every backend: a test file defines a Backend
// (a fresh, empty database per test: `Options options() const`) and instantiates it with
// INSTANTIATE_TYPED_TEST_SUITE_P(Name, ConnectionSuite, BackendType).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "sql/connection.h"

namespace reel::sql::testing {

template <class Backend>
class ConnectionSuite : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Connection>> opened = open(backend_.options());
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    db_ = std::move(*opened);
  }

  // A table with one column of each kind of value (MEDIUM*: MariaDB's TEXT holds only 64 KiB).
  void create_probe() {
    Status created = db_->execute_script(
        "CREATE TABLE probe (id INTEGER NOT NULL PRIMARY KEY, i BIGINT NULL, d DOUBLE NULL, "
        "t MEDIUMTEXT NULL, b MEDIUMBLOB NULL)");
    ASSERT_TRUE(created.ok()) << created.error().message;
  }

  void insert_probe(const Params& row) {
    Result<int64_t> inserted = db_->execute("INSERT INTO probe (id, i, d, t, b) VALUES (?, ?, ?, ?, ?)", row);
    ASSERT_TRUE(inserted.ok()) << inserted.error().message;
    EXPECT_EQ(*inserted, 1);
  }

  int64_t count(const std::string& sql, const Params& params = {}) {
    Result<std::vector<Row>> rows = db_->query_all(sql, params);
    EXPECT_TRUE(rows.ok()) << rows.error().message;
    return rows.ok() && rows->size() == 1 ? rows->front().integer(0) : -1;
  }

  Backend backend_;
  std::unique_ptr<Connection> db_;
};

TYPED_TEST_SUITE_P(ConnectionSuite);

TYPED_TEST_P(ConnectionSuite, MigrateIsIdempotentAndRecordsEachVersionOnce) {
  Result<int> first = migrate(*this->db_);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_GE(*first, 1);
  Result<int> again = migrate(*this->db_);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(*again, *first);

  Result<std::vector<Row>> recorded =
      this->db_->query_all("SELECT version, applied_at FROM schema_migrations ORDER BY version");
  ASSERT_TRUE(recorded.ok()) << recorded.error().message;
  ASSERT_EQ(recorded->size(), static_cast<size_t>(*first));
  for (size_t i = 0; i < recorded->size(); ++i) {
    EXPECT_EQ((*recorded)[i].integer(0), static_cast<int64_t>(i + 1));
    EXPECT_GT((*recorded)[i].integer(1), 1'600'000'000);
  }

  // Another connection (another process, in production) finds nothing left to do.
  Result<std::unique_ptr<Connection>> other = open(this->backend_.options());
  ASSERT_TRUE(other.ok()) << other.error().message;
  Result<int> from_other = migrate(**other);
  ASSERT_TRUE(from_other.ok()) << from_other.error().message;
  EXPECT_EQ(*from_other, *first);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM schema_migrations"), *first);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM videos"), 0);
}

TYPED_TEST_P(ConnectionSuite, BindsAndReadsBackEveryKindOfValue) {
  this->create_probe();
  const std::string utf8 = "Grüße, 東京, emoji 🎬";
  const std::string binary("\0\x01\xff\xfe'\"\\;", 8);
  const int64_t smallest = std::numeric_limits<int64_t>::min();
  const int64_t largest = std::numeric_limits<int64_t>::max();
  this->insert_probe({int64_t{1}, smallest, -0.125, utf8, binary});
  this->insert_probe({int64_t{2}, largest, 1e300, std::string(), std::string()});
  this->insert_probe({int64_t{3}, Value(), Value(), Value(), Value()});

  Result<std::vector<Row>> rows = this->db_->query_all("SELECT id, i, d, t, b FROM probe ORDER BY id");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 3u);
  const Row& first = (*rows)[0];
  ASSERT_EQ(first.size(), 5u);
  EXPECT_EQ(first.integer(1), smallest);
  EXPECT_EQ(first.number(2), -0.125);
  EXPECT_EQ(first.text(3), utf8);
  EXPECT_EQ(first.text(4), binary);
  EXPECT_TRUE(std::holds_alternative<int64_t>(first.value(1)));
  EXPECT_TRUE(std::holds_alternative<double>(first.value(2)));

  const Row& second = (*rows)[1];
  EXPECT_EQ(second.integer(1), largest);
  EXPECT_EQ(second.number(2), 1e300);
  EXPECT_FALSE(second.is_null(3)) << "an empty string is not NULL";
  EXPECT_EQ(second.text(3), "");
  EXPECT_FALSE(second.is_null(4));

  const Row& third = (*rows)[2];
  for (size_t column = 1; column < 5; ++column) EXPECT_TRUE(third.is_null(column)) << column;
  EXPECT_EQ(third.integer(1), 0);
  EXPECT_EQ(third.number(2), 0.0);
  EXPECT_EQ(third.text(3), "");

  // Parameters compare as values in WHERE clauses too, NULL included.
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM probe WHERE t = ?", {utf8}), 1);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM probe WHERE b = ?", {binary}), 1);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM probe WHERE i = ? AND d < ?", {largest, 2e300}), 1);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM probe WHERE t IS NULL AND ? IS NULL", {Value()}), 1);
}

TYPED_TEST_P(ConnectionSuite, ReadsLongValuesWhole) {
  this->create_probe();
  std::string longest;
  for (int64_t id = 1; id <= 4; ++id) {
    longest = std::string(static_cast<size_t>(id * 40'000), static_cast<char>('a' + id));
    this->insert_probe({id, id, Value(), longest, longest});
  }
  std::vector<size_t> lengths;
  Status read = this->db_->query("SELECT t, b FROM probe ORDER BY id", {}, [&](const Row& row) {
    EXPECT_EQ(row.text(0), row.text(1));
    lengths.push_back(row.text(0).size());
    return true;
  });
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(lengths, (std::vector<size_t>{40'000, 80'000, 120'000, 160'000}));
}

TYPED_TEST_P(ConnectionSuite, ExecuteCountsChangedRowsAndReportsInsertIds) {
  const char* create =
      this->db_->dialect() == Dialect::sqlite
          ? "CREATE TABLE counter (id INTEGER PRIMARY KEY AUTOINCREMENT, n INT NOT NULL)"
          : "CREATE TABLE counter (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, n INT NOT NULL)";
  ASSERT_TRUE(this->db_->execute_script(create).ok());
  Result<int64_t> inserted = this->db_->execute("INSERT INTO counter (n) VALUES (?)", {int64_t{10}});
  ASSERT_TRUE(inserted.ok()) << inserted.error().message;
  EXPECT_EQ(*inserted, 1);
  const int64_t first_id = this->db_->last_insert_id();
  EXPECT_GT(first_id, 0);
  ASSERT_TRUE(this->db_->execute("INSERT INTO counter (n) VALUES (?)", {int64_t{20}}).ok());
  EXPECT_EQ(this->db_->last_insert_id(), first_id + 1);

  Result<int64_t> updated = this->db_->execute("UPDATE counter SET n = n + 1");
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  EXPECT_EQ(*updated, 2);
  Result<int64_t> deleted = this->db_->execute("DELETE FROM counter WHERE n > ?", {int64_t{15}});
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  EXPECT_EQ(*deleted, 1);
}

TYPED_TEST_P(ConnectionSuite, QueryStopsWhenTheRowCallbackSaysSo) {
  this->create_probe();
  for (int64_t id = 1; id <= 10; ++id) this->insert_probe({id, id, Value(), Value(), Value()});
  std::vector<int64_t> seen;
  Status read = this->db_->query("SELECT i FROM probe ORDER BY id", {}, [&](const Row& row) {
    seen.push_back(row.integer(0));
    return seen.size() < 3;
  });
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(seen, (std::vector<int64_t>{1, 2, 3}));
  // The rows not read were discarded: the connection runs the next statement.
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM probe"), 10);
}

TYPED_TEST_P(ConnectionSuite, RollbackDiscardsAndCommitKeeps) {
  this->create_probe();
  ASSERT_TRUE(this->db_->begin().ok());
  this->insert_probe({int64_t{1}, Value(), Value(), std::string("discarded"), Value()});
  ASSERT_TRUE(this->db_->rollback().ok());
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM probe"), 0);

  ASSERT_TRUE(this->db_->begin().ok());
  this->insert_probe({int64_t{2}, Value(), Value(), std::string("kept"), Value()});
  ASSERT_TRUE(this->db_->commit().ok());
  Result<std::unique_ptr<Connection>> other = open(this->backend_.options());
  ASSERT_TRUE(other.ok()) << other.error().message;
  Result<std::vector<Row>> rows = (*other)->query_all("SELECT t FROM probe");
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().text(0), "kept");
}

TYPED_TEST_P(ConnectionSuite, ErrorsCarryTheEngineMessageAndTheStatement) {
  this->create_probe();
  Result<int64_t> syntax = this->db_->execute("SELEC nothing FROM probe");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.error().message.find("SELEC nothing FROM probe"), std::string::npos)
      << syntax.error().message;

  this->insert_probe({int64_t{1}, Value(), Value(), Value(), Value()});
  Result<int64_t> duplicate = this->db_->execute("INSERT INTO probe (id) VALUES (?)", {int64_t{1}});
  ASSERT_FALSE(duplicate.ok());
  EXPECT_NE(duplicate.error().message.find("INSERT INTO probe"), std::string::npos)
      << duplicate.error().message;

  Result<int64_t> missing_param = this->db_->execute("INSERT INTO probe (id, i) VALUES (?, ?)", {int64_t{2}});
  ASSERT_FALSE(missing_param.ok());
  EXPECT_NE(missing_param.error().message.find("parameters"), std::string::npos)
      << missing_param.error().message;

  Status script =
      this->db_->execute_script("INSERT INTO probe (id) VALUES (5); INSERT INTO nowhere VALUES (1)");
  ASSERT_FALSE(script.ok());
  EXPECT_NE(script.error().message.find("nowhere"), std::string::npos) << script.error().message;

  // None of the failures broke the connection.
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM probe WHERE id = ?", {int64_t{1}}), 1);
}

TYPED_TEST_P(ConnectionSuite, ParametersAreDataNeverSql) {
  this->create_probe();
  const std::string attack = "x'); DROP TABLE probe; --";
  this->insert_probe({int64_t{1}, Value(), Value(), attack, attack});
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM probe WHERE t = ?", {std::string("' OR '1'='1")}), 0);
  Result<std::vector<Row>> rows = this->db_->query_all("SELECT t FROM probe WHERE t = ?", {attack});
  ASSERT_TRUE(rows.ok()) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().text(0), attack);
}

TYPED_TEST_P(ConnectionSuite, ExecuteScriptRunsEveryStatement) {
  Status script = this->db_->execute_script(
      "CREATE TABLE pairs (a INT NOT NULL, b INT NOT NULL); INSERT INTO pairs VALUES (1, 2);\n"
      "INSERT INTO pairs VALUES (3, 4);");
  ASSERT_TRUE(script.ok()) << script.error().message;
  EXPECT_EQ(this->count("SELECT SUM(a + b) FROM pairs"), 10);
}

// A snapshot (what `reel rebuild` reads in) sees one moment: another connection writes and commits
// meanwhile without waiting for it, and the snapshot sees that only once it has ended.
TYPED_TEST_P(ConnectionSuite, ASnapshotSeesOneMomentWhileAnotherConnectionWrites) {
  this->create_probe();
  this->insert_probe({int64_t{1}, Value(), Value(), std::string("before"), Value()});
  ASSERT_TRUE(this->db_->begin_snapshot().ok());
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM probe"), 1);
  Result<std::unique_ptr<Connection>> writer = open(this->backend_.options());
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  ASSERT_TRUE((*writer)->begin().ok());
  Result<int64_t> inserted =
      (*writer)->execute("INSERT INTO probe (id, t) VALUES (?, ?)", {int64_t{2}, std::string("after")});
  ASSERT_TRUE(inserted.ok()) << inserted.error().message;
  ASSERT_TRUE((*writer)->commit().ok());
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM probe"), 1);
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM probe WHERE id = 2"), 0);
  ASSERT_TRUE(this->db_->commit().ok());
  EXPECT_EQ(this->count("SELECT COUNT(*) FROM probe"), 2);
}

REGISTER_TYPED_TEST_SUITE_P(ConnectionSuite, MigrateIsIdempotentAndRecordsEachVersionOnce,
                            BindsAndReadsBackEveryKindOfValue, ReadsLongValuesWhole,
                            ExecuteCountsChangedRowsAndReportsInsertIds, QueryStopsWhenTheRowCallbackSaysSo,
                            RollbackDiscardsAndCommitKeeps, ErrorsCarryTheEngineMessageAndTheStatement,
                            ParametersAreDataNeverSql, ExecuteScriptRunsEveryStatement,
                            ASnapshotSeesOneMomentWhileAnotherConnectionWrites);

}  // namespace reel::sql::testing
