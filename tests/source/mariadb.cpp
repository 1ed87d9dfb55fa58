#include <esink/source/mariadb.hpp>

#define BOOST_TEST_MODULE source_mariadb
#include <boost/test/unit_test.hpp>

#include "mariadb_helpers.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <random>
#include <set>
#include <thread>

using namespace std::chrono_literals;
using esink_test::options;
using esink_test::recording_sink;
using esink_test::session;
namespace mdb = esink::detail::mariadb;

namespace {

/// Starts a source that acknowledges every event as it arrives.
struct running {
  recording_sink sink;
  esink::mariadb_source source;
  explicit running(esink::mariadb_options o, bool start_now = true) : source(std::move(o)) {
    sink.ack = &source;
    if (start_now) start();
  }
  void start() {
    std::error_code ec;
    source.start(sink, ec);
    BOOST_TEST_REQUIRE(!ec, ec.message() << ": " << source.error_message());
  }
};

std::string str(const boost::json::value& v) { return boost::json::serialize(v); }

std::size_t count_triggers(session& s, const std::string& table) {
  return std::stoul(s.scalar("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() "
                             "AND BINARY EVENT_OBJECT_TABLE = " + mdb::quote_string(table)));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(mariadb_source_units)

BOOST_AUTO_TEST_CASE(quoting) {
  BOOST_TEST(mdb::quote_ident("a`b c") == "`a``b c`");
  BOOST_TEST(mdb::quote_string("it's") == "_utf8mb4'it''s'");
  BOOST_TEST(mdb::json_check_column("json_valid(`a``b`)") == "a`b");
  BOOST_TEST(mdb::json_check_column("json_valid(`a`b`)") == "");
  BOOST_TEST(mdb::json_check_column("x > 0") == "");
}

BOOST_AUTO_TEST_CASE(cursor_gaps) {
  mdb::cursor_state c;
  c.advance(1);
  c.advance(5);  // 2..4 missing
  c.advance(6);
  c.advance(9);  // 7..8 missing
  BOOST_TEST(c.gaps_text() == "2-4,7-8");
  c.fill(3);
  BOOST_TEST(c.gaps_text() == "2,4,7-8");
  c.erase(0, 7);
  BOOST_TEST(c.gaps_text() == "8");
  BOOST_TEST(c.contains(8));
  BOOST_TEST(!c.contains(9));
  mdb::cursor_state d;
  BOOST_TEST(d.parse_gaps("2,4,7-8"));
  BOOST_TEST(d.gaps_text() == "2,4,7-8");
  BOOST_TEST(!d.parse_gaps("5-3"));
  BOOST_TEST(!d.parse_gaps("x"));
}

BOOST_AUTO_TEST_CASE(acknowledged_cursor_replays_up_to_the_ack) {
  using k = mdb::acked_cursor::op_kind;
  mdb::acked_cursor a;
  a.reset({});
  a.log(1, k::advance, 3);
  a.log(2, k::advance, 4);
  a.log(2, k::erase, 0, 1);
  a.log(3, k::fill, 2);
  BOOST_TEST(a.acknowledge(2));
  BOOST_TEST(a.state().high_water == 4u);
  BOOST_TEST(a.state().gaps_text() == "2");
  BOOST_TEST(a.state().seq == 2u);
  BOOST_TEST(!a.acknowledge(2));
  BOOST_TEST(a.acknowledge(3));
  BOOST_TEST(a.state().gaps_text() == "");
}


BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(mariadb_source_db)

BOOST_AUTO_TEST_CASE(unknown_table_is_a_startup_error_naming_it) {
  session s;
  s.exec("CREATE TABLE IF NOT EXISTS known_t (id INT PRIMARY KEY)");
  esink::mariadb_source src(options("ev_unknown", "known_t, no_such_table"));
  recording_sink sink;
  std::error_code ec;
  src.start(sink, ec);
  BOOST_TEST((ec == esink::error::unknown_table));
  BOOST_TEST((ec == esink::condition::source_unavailable));
  BOOST_TEST(src.error_message().find("no_such_table") != std::string::npos, src.error_message());
}

BOOST_AUTO_TEST_CASE(bad_password_is_fatal) {
  auto o = options("ev_badpw", "known_t");
  o.password += "x";
  esink::mariadb_source src(o);
  recording_sink sink;
  std::error_code ec;
  src.start(sink, ec);
  BOOST_TEST((ec == esink::error::source_fatal), ec.message() << " " << src.error_message());
}

BOOST_AUTO_TEST_CASE(insert_update_delete) {
  session s;
  s.exec("DROP TABLE IF EXISTS basic_t");
  s.exec("CREATE TABLE basic_t (id INT PRIMARY KEY, name VARCHAR(20))");
  running r(options("ev_basic", "basic_t"));
  s.exec("INSERT INTO basic_t VALUES (1, 'one')");
  s.exec("UPDATE basic_t SET name = 'uno' WHERE id = 1");
  s.exec("DELETE FROM basic_t WHERE id = 1");
  BOOST_TEST_REQUIRE(r.sink.wait_for(3) == 3u);
  auto ev = r.sink.snapshot();
  BOOST_TEST(ev[0].table == "basic_t");
  BOOST_TEST((ev[0].type == esink::change_type::insert));
  BOOST_TEST(str(ev[0].row) == R"({"id":1,"name":"one"})");
  BOOST_TEST((ev[1].type == esink::change_type::update));
  BOOST_TEST(str(ev[1].row) == R"({"id":1,"name":"uno"})");
  BOOST_TEST((ev[2].type == esink::change_type::remove));
  BOOST_TEST(str(ev[2].row) == R"({"id":1,"name":"uno"})");  // the old row
  BOOST_TEST(ev[0].id < ev[1].id);
  BOOST_TEST(ev[1].id < ev[2].id);
  auto now = mdb::now_us();
  BOOST_TEST(ev[0].commit_time_us > now - 60'000'000);
  BOOST_TEST(ev[0].commit_time_us <= now);
  BOOST_TEST(count_triggers(s, "basic_t") == 3u);
  r.sink.wait_until([](auto&, auto& st) { return !st.empty() && !st.back(); });
}


BOOST_AUTO_TEST_CASE(every_column_type) {
  session s;
  s.exec("DROP TABLE IF EXISTS types_t");
  s.exec("CREATE TABLE types_t (id INT PRIMARY KEY, ti TINYINT, si SMALLINT, mi MEDIUMINT, i INT, bi BIGINT, "
         "ubi BIGINT UNSIGNED, flag TINYINT(1), dec1 DECIMAL(30,10), f FLOAT, d DOUBLE, c CHAR(5), vc VARCHAR(100), "
         "tx TEXT, j JSON, dt DATE, dtm DATETIME(6), dt0 DATETIME, ts TIMESTAMP(3) NULL, tm TIME, yr YEAR, "
         "bn BINARY(3), vb VARBINARY(10), bl BLOB, en ENUM('a','b c'), st SET('x','y'), bt BIT(5), n INT NULL)");
  running r(options("ev_types", "types_t"));
  s.exec("SET time_zone = '+05:00'");  // TIMESTAMP must come out in UTC whatever the writer's zone
  s.exec("INSERT INTO types_t VALUES (1, -128, 32767, -8388608, 2147483647, -9223372036854775808, "
         "18446744073709551615, 1, '12345678901234567890.0123456789', 1.5, 0.1, 'ab', "
         "'q\"uo''te \\ back ✓ 😀', 'line1\nline2', '{\"a\": [1, 2, {\"b\": null}], \"s\": \"x\"}', '2024-02-29', "
         "'2024-02-29 13:14:15.123456', '2024-02-29 13:14:15', '2024-02-29 18:14:15.250', '-12:30:00', 2024, "
         "X'000102', X'FF00', X'DEADBEEF', 'b c', 'x,y', b'10101', NULL)");
  s.exec("UPDATE types_t SET ubi = 0, dec1 = -0.5, j = '\"just a string\"', n = 7 WHERE id = 1");
  s.exec("DELETE FROM types_t WHERE id = 1");
  BOOST_TEST_REQUIRE(r.sink.wait_for(3) == 3u);
  auto ev = r.sink.snapshot();
  const auto& row = ev[0].row;
  BOOST_TEST(row.at("ti").as_int64() == -128);
  BOOST_TEST(row.at("si").as_int64() == 32767);
  BOOST_TEST(row.at("mi").as_int64() == -8388608);
  BOOST_TEST(row.at("bi").as_int64() == std::numeric_limits<std::int64_t>::min());
  BOOST_TEST(row.at("ubi").as_uint64() == std::numeric_limits<std::uint64_t>::max());
  BOOST_TEST(row.at("flag").as_int64() == 1);  // TINYINT(1) stays a number
  BOOST_TEST(row.at("dec1").as_string() == "12345678901234567890.0123456789");
  BOOST_TEST(row.at("f").as_double() == 1.5);
  BOOST_TEST(row.at("d").as_double() == 0.1);
  BOOST_TEST(row.at("c").as_string() == "ab");
  BOOST_TEST(row.at("vc").as_string() == "q\"uo'te \\ back ✓ 😀");
  BOOST_TEST(row.at("tx").as_string() == "line1\nline2");
  BOOST_TEST(str(row.at("j")) == R"({"a":[1,2,{"b":null}],"s":"x"})");
  BOOST_TEST(row.at("dt").as_string() == "2024-02-29");
  BOOST_TEST(row.at("dtm").as_string() == "2024-02-29T13:14:15.123456");
  BOOST_TEST(row.at("dt0").as_string() == "2024-02-29T13:14:15");
  BOOST_TEST(row.at("ts").as_string() == "2024-02-29T13:14:15.250000Z");
  BOOST_TEST(row.at("tm").as_string() == "-12:30:00");
  BOOST_TEST(row.at("yr").as_int64() == 2024);
  BOOST_TEST(row.at("bn").as_string() == "AAEC");
  BOOST_TEST(row.at("vb").as_string() == "/wA=");
  BOOST_TEST(row.at("bl").as_string() == "3q2+7w==");
  BOOST_TEST(row.at("en").as_string() == "b c");
  BOOST_TEST(row.at("st").as_string() == "x,y");
  BOOST_TEST(row.at("bt").as_int64() == 21);
  BOOST_TEST(row.at("n").is_null());
  BOOST_TEST(row.size() == 28u);
  BOOST_TEST((ev[1].type == esink::change_type::update));
  BOOST_TEST(ev[1].row.at("ubi").as_int64() == 0);
  BOOST_TEST(ev[1].row.at("dec1").as_string() == "-0.5000000000");
  BOOST_TEST(ev[1].row.at("j").as_string() == "just a string");
  BOOST_TEST(ev[1].row.at("n").as_int64() == 7);
  BOOST_TEST((ev[2].type == esink::change_type::remove));
  BOOST_TEST(str(ev[2].row) == str(ev[1].row));
}

BOOST_AUTO_TEST_CASE(awkward_table_names) {
  session s;
  for (auto t : {"`select`", "`MixedCase`", "`mixedcase`", "`we``ird name`", "`dot.ted`", "`esink other`.`Other T`"})
    s.exec(std::string("DROP TABLE IF EXISTS ") + t), s.exec(std::string("CREATE TABLE ") + t + " (`from` INT)");
  running r(options("ev awkward`name", "select, MixedCase, we`ird name, \"dot.ted\", esink other.Other T"));
  s.exec("INSERT INTO `select` VALUES (1)");
  s.exec("INSERT INTO `mixedcase` VALUES (99)");  // not watched: same name in another case
  s.exec("INSERT INTO `MixedCase` VALUES (2)");
  s.exec("INSERT INTO `we``ird name` VALUES (3)");
  s.exec("INSERT INTO `dot.ted` VALUES (4)");
  s.exec("INSERT INTO `esink other`.`Other T` VALUES (5)");
  BOOST_TEST_REQUIRE(r.sink.wait_for(5) == 5u);
  auto ev = r.sink.snapshot();
  std::vector<std::string> want{"select", "MixedCase", "we`ird name", "dot.ted", "esink other.Other T"};
  for (std::size_t i = 0; i < 5; ++i) {
    BOOST_TEST(ev[i].table == want[i]);
    BOOST_TEST(ev[i].row.at("from").as_int64() == static_cast<std::int64_t>(i + 1));
  }
  BOOST_TEST(count_triggers(s, "mixedcase") == 0u);
  BOOST_TEST(count_triggers(s, "MixedCase") == 3u);
}

namespace {
std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += t[v >> 18], out += t[v >> 12 & 63], out += t[v >> 6 & 63], out += t[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16;
    out += t[v >> 18], out += t[v >> 12 & 63], out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += t[v >> 18], out += t[v >> 12 & 63], out += t[v >> 6 & 63], out += '=';
  }
  return out;
}
}  // namespace

BOOST_AUTO_TEST_CASE(one_megabyte_rows) {
  session s;
  s.exec("DROP TABLE IF EXISTS big_t");
  s.exec("CREATE TABLE big_t (id INT PRIMARY KEY, t LONGTEXT, b LONGBLOB)");
  running r(options("ev_big", "big_t"));
  s.exec("INSERT INTO big_t VALUES (1, REPEAT('é\"', 350000), REPEAT(X'00FF10', 350000))");  // ~1 MB each
  s.exec("UPDATE big_t SET id = 2");
  BOOST_TEST_REQUIRE(r.sink.wait_for(2) == 2u);
  auto ev = r.sink.snapshot();
  std::string text, blob;
  for (int i = 0; i < 350000; ++i) text += "é\"", blob += std::string("\x00\xff\x10", 3);
  for (auto& e : ev) {
    BOOST_TEST(e.row.at("t").as_string() == text);
    BOOST_TEST(e.row.at("b").as_string() == base64(blob));
  }
}

BOOST_AUTO_TEST_CASE(burst_of_100000_rows_exactly_once_in_order) {
  session s;
  s.exec("DROP TABLE IF EXISTS burst_t");
  s.exec("CREATE TABLE burst_t (id INT AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL)");
  running r(options("ev_burst", "burst_t"));
  auto t0 = std::chrono::steady_clock::now();
  for (int b = 0; b < 10; ++b)
    s.exec("INSERT INTO burst_t (v) SELECT seq + " + std::to_string(b * 10000) + " FROM seq_1_to_10000");
  BOOST_TEST_REQUIRE(r.sink.wait_for(100000, 120s) == 100000u);
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  BOOST_TEST_MESSAGE("100000 rows committed and delivered in " << secs << " s");
  auto ev = r.sink.snapshot();
  for (std::size_t i = 0; i < ev.size(); ++i) {
    if (ev[i].row.at("v").as_int64() != static_cast<std::int64_t>(i + 1)) {
      BOOST_TEST(ev[i].row.at("v").as_int64() == static_cast<std::int64_t>(i + 1), "at event " << i);
      break;
    }
    if (i && ev[i].id != ev[i - 1].id + 1) {
      BOOST_TEST(ev[i].id == ev[i - 1].id + 1, "at event " << i);
      break;
    }
  }
}

BOOST_AUTO_TEST_CASE(earlier_id_committing_later_is_delivered_in_commit_order) {
  session a, b;
  a.exec("DROP TABLE IF EXISTS late_t");
  a.exec("CREATE TABLE late_t (v INT PRIMARY KEY)");
  running r(options("ev_late", "late_t"));
  a.exec("BEGIN");
  a.exec("INSERT INTO late_t VALUES (1)");  // takes the earlier event id
  b.exec("INSERT INTO late_t VALUES (2)");  // later id, commits first
  BOOST_TEST_REQUIRE(r.sink.wait_for(1) == 1u);
  a.exec("COMMIT");
  BOOST_TEST_REQUIRE(r.sink.wait_for(2) == 2u);
  a.exec("BEGIN");
  a.exec("INSERT INTO late_t VALUES (3)");
  b.exec("INSERT INTO late_t VALUES (4)");
  a.exec("ROLLBACK");  // never delivered
  b.exec("INSERT INTO late_t VALUES (5)");
  BOOST_TEST_REQUIRE(r.sink.wait_for(4) == 4u);
  // The rolled-back id is resolved as a dead gap once no transaction can own it.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (r.source.stats().open_gaps.load() != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  BOOST_TEST(r.source.stats().open_gaps.load() == 0u);
  r.source.stop();
  auto ev = r.sink.snapshot();
  std::vector<std::int64_t> got;
  for (auto& e : ev) got.push_back(e.row.at("v").as_int64());
  BOOST_TEST(got == (std::vector<std::int64_t>{2, 1, 4, 5}), boost::test_tools::per_element());
  BOOST_TEST(a.scalar("SELECT gaps FROM ev_late_cursor WHERE consumer = 'esink'") == "");
}

BOOST_AUTO_TEST_CASE(eight_concurrent_writers_with_long_transactions_and_rollbacks) {
  session setup;
  setup.exec("DROP TABLE IF EXISTS conc_t");
  setup.exec("CREATE TABLE conc_t (id BIGINT AUTO_INCREMENT PRIMARY KEY, v BIGINT NOT NULL UNIQUE)");
  running r(options("ev_conc", "conc_t"));
  using clk = std::chrono::steady_clock;
  struct txn {
    clk::time_point begin, committed;
    std::vector<std::int64_t> values;
  };
  std::vector<std::vector<txn>> done(8);
  std::vector<std::set<std::int64_t>> rolled_back(8);
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w)
    writers.emplace_back([&, w] {
      session s;
      std::mt19937 rng(static_cast<unsigned>(w) * 7919u);
      std::int64_t next = static_cast<std::int64_t>(w) * 1000000;
      for (int t = 0; t < 50; ++t) {
        int kind = static_cast<int>(rng() % 10);  // 0-1 rollback, 2-3 long, else short
        txn x;
        x.begin = clk::now();
        s.exec("BEGIN");
        int rows = 1 + static_cast<int>(rng() % 3);
        for (int i = 0; i < rows; ++i) {
          std::int64_t v = ++next;
          s.exec("INSERT INTO conc_t (v) VALUES (" + std::to_string(v) + ")");
          x.values.push_back(v);
          if (kind == 2 || kind == 3) std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng() % 25));
        }
        if (kind <= 1) {
          s.exec("ROLLBACK");
          rolled_back[w].insert(x.values.begin(), x.values.end());
        } else {
          s.exec("COMMIT");
          x.committed = clk::now();
          done[w].push_back(std::move(x));
        }
      }
    });
  for (auto& t : writers) t.join();
  std::vector<const txn*> all;
  std::size_t expected = 0;
  for (auto& d : done)
    for (auto& x : d) all.push_back(&x), expected += x.values.size();
  BOOST_TEST_REQUIRE(r.sink.wait_for(expected, 60s) == expected);
  r.source.stop();
  auto ev = r.sink.snapshot();
  BOOST_TEST(ev.size() == expected);
  std::map<std::int64_t, std::size_t> pos;
  for (std::size_t i = 0; i < ev.size(); ++i) {
    auto v = ev[i].row.at("v").as_int64();
    BOOST_TEST(pos.emplace(v, i).second, "value " << v << " delivered twice");
    BOOST_TEST(!rolled_back[static_cast<std::size_t>(v / 1000000)].count(v), "rolled back value " << v << " delivered");
  }
  // Commit order: a transaction that committed before another began is delivered before it.
  std::size_t violations = 0;
  for (auto* a : all)
    for (auto* b : all) {
      if (!(a->committed < b->begin)) continue;
      for (auto va : a->values)
        for (auto vb : b->values)
          if (pos.count(va) && pos.count(vb) && pos[va] > pos[vb]) ++violations;
    }
  BOOST_TEST(violations == 0u);
  for (auto* a : all)
    for (auto v : a->values) BOOST_TEST(pos.count(v) == 1u, "committed value " << v << " missing");
}

namespace {
/// Inserts rows until told to stop, reconnecting through failures; the table is the truth.
struct background_writer {
  std::atomic<bool> stop{false};
  std::atomic<int> committed{0};
  std::thread t;
  background_writer(std::string table, int batch) {
    t = std::thread([this, table, batch] {
      std::unique_ptr<session> s;
      while (!stop) {
        try {
          if (!s) s = std::make_unique<session>();
          std::string sql = "INSERT INTO " + table + " (v) VALUES (0)";
          for (int i = 1; i < batch; ++i) sql += ",(0)";
          s->exec(sql);
          committed += batch;
        } catch (const std::exception&) {
          s.reset();
          std::this_thread::sleep_for(20ms);
        }
      }
    });
  }
  void finish() {
    stop = true;
    if (t.joinable()) t.join();
  }
  ~background_writer() { finish(); }
};

void expect_exactly_the_table(const std::vector<esink::change_event>& ev, session& s, const std::string& table) {
  std::set<std::int64_t> truth;
  for (auto& row : s.rows("SELECT id FROM " + table)) truth.insert(std::stoll(row[0]));
  std::set<std::int64_t> seen;
  std::size_t dups = 0;
  for (auto& e : ev)
    if (!seen.insert(e.row.at("id").as_int64()).second) ++dups;
  BOOST_TEST(dups == 0u);
  BOOST_TEST(seen.size() == truth.size());
  BOOST_TEST((seen == truth));
}
}  // namespace

BOOST_AUTO_TEST_CASE(source_restarted_mid_stream_loses_and_duplicates_nothing) {
  session s;
  s.exec("DROP TABLE IF EXISTS srs_t");
  s.exec("CREATE TABLE srs_t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
  auto opts = options("ev_srs", "srs_t");
  std::vector<esink::change_event> all;
  { running installs(opts); }  // triggers and cursor exist before the first write
  background_writer w("srs_t", 5);
  for (int round = 0; round < 3; ++round) {
    running r(opts);
    BOOST_TEST_REQUIRE(r.sink.wait_for(300) >= 300u);
    r.source.stop();  // mid-stream: the writer keeps going
    auto ev = r.sink.snapshot();
    if (!all.empty()) BOOST_TEST(ev.front().id == all.back().id + 1);
    all.insert(all.end(), ev.begin(), ev.end());
  }
  w.finish();
  std::size_t total = std::stoul(s.scalar("SELECT COUNT(*) FROM srs_t"));
  running r(opts);
  BOOST_TEST_REQUIRE(r.sink.wait_for(total - all.size()) == total - all.size());
  r.source.stop();
  auto ev = r.sink.snapshot();
  all.insert(all.end(), ev.begin(), ev.end());
  expect_exactly_the_table(all, s, "srs_t");
}

BOOST_AUTO_TEST_CASE(writes_commit_while_esink_is_down) {
  session s;
  s.exec("DROP TABLE IF EXISTS down_t");
  s.exec("CREATE TABLE down_t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
  auto opts = options("ev_down", "down_t");
  {
    running r(opts);
    s.exec("INSERT INTO down_t (v) VALUES (1)");
    BOOST_TEST_REQUIRE(r.sink.wait_for(1) == 1u);
  }
  s.exec("INSERT INTO down_t (v) SELECT seq FROM seq_2_to_50");
  running r(opts);
  BOOST_TEST_REQUIRE(r.sink.wait_for(49) == 49u);
  auto ev = r.sink.snapshot();
  BOOST_TEST(ev.front().row.at("v").as_int64() == 2);
  BOOST_TEST(ev.back().row.at("v").as_int64() == 50);
}

BOOST_AUTO_TEST_CASE(two_sources_started_at_once) {
  session s;
  s.exec("DROP TABLE IF EXISTS two_t");
  s.exec("DROP TABLE IF EXISTS ev_two");
  s.exec("DROP TABLE IF EXISTS ev_two_cursor");
  s.exec("CREATE TABLE two_t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
  auto o1 = options("ev_two", "two_t"), o2 = o1;
  o1.consumer = "first";
  o2.consumer = "second";
  running r1(o1, false), r2(o2, false);
  std::thread t1([&] { r1.start(); }), t2([&] { r2.start(); });
  t1.join();
  t2.join();
  BOOST_TEST(count_triggers(s, "two_t") == 3u);
  s.exec("INSERT INTO two_t (v) SELECT seq FROM seq_1_to_100");
  BOOST_TEST_REQUIRE(r1.sink.wait_for(100) == 100u);
  BOOST_TEST_REQUIRE(r2.sink.wait_for(100) == 100u);
  r1.source.stop();
  r2.source.stop();
  expect_exactly_the_table(r1.sink.snapshot(), s, "two_t");
  expect_exactly_the_table(r2.sink.snapshot(), s, "two_t");
}

BOOST_AUTO_TEST_CASE(triggers_follow_column_changes_between_restarts) {
  session s;
  s.exec("DROP TABLE IF EXISTS cols_t");
  s.exec("CREATE TABLE cols_t (id INT PRIMARY KEY, a INT)");
  auto opts = options("ev_cols", "cols_t");
  {
    running r(opts);
    s.exec("INSERT INTO cols_t VALUES (1, 1)");
    BOOST_TEST_REQUIRE(r.sink.wait_for(1) == 1u);
    BOOST_TEST(str(r.sink.snapshot()[0].row) == R"({"id":1,"a":1})");
  }
  s.exec("ALTER TABLE cols_t ADD COLUMN b VARCHAR(10), MODIFY a DECIMAL(5,2)");
  s.exec("INSERT INTO cols_t VALUES (2, 2, 'old')");  // old trigger: the new column is not in it yet
  running r(opts);
  s.exec("INSERT INTO cols_t VALUES (3, 3, 'new')");
  BOOST_TEST_REQUIRE(r.sink.wait_for(2) == 2u);
  auto ev = r.sink.snapshot();
  BOOST_TEST(ev[0].row.size() == 2u);  // the old trigger: no `b`, `a` still rendered as a number
  BOOST_TEST(ev[0].row.at("a").to_number<double>() == 2.0);
  BOOST_TEST(str(ev[1].row) == R"({"id":3,"a":"3.00","b":"new"})");
  BOOST_TEST(count_triggers(s, "cols_t") == 3u);
}

BOOST_AUTO_TEST_CASE(reset_on_start_is_opt_in) {
  session s;
  s.exec("DROP TABLE IF EXISTS reset_t");
  s.exec("CREATE TABLE reset_t (id INT AUTO_INCREMENT PRIMARY KEY)");
  auto opts = options("ev_reset", "reset_t");
  { running r(opts); }
  s.exec("INSERT INTO reset_t VALUES (), (), ()");
  BOOST_TEST(s.scalar("SELECT COUNT(*) FROM ev_reset") == "3");
  opts.reset_on_start = true;
  running r(opts);
  BOOST_TEST(s.scalar("SELECT COUNT(*) FROM ev_reset") == "0");
  s.exec("INSERT INTO reset_t VALUES ()");
  BOOST_TEST_REQUIRE(r.sink.wait_for(1) == 1u);
  BOOST_TEST(r.sink.snapshot()[0].row.at("id").as_int64() == 4);
}

BOOST_AUTO_TEST_CASE(retention_prunes_by_count) {
  session s;
  s.exec("DROP TABLE IF EXISTS ret_t");
  s.exec("CREATE TABLE ret_t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
  auto opts = options("ev_ret", "ret_t");
  opts.retention_count = 100;
  s.exec("INSERT INTO ret_t (v) VALUES (0)");  // no triggers yet: not an event
  {
    running r(opts);
    s.exec("INSERT INTO ret_t (v) SELECT seq FROM seq_1_to_500");
    BOOST_TEST_REQUIRE(r.sink.wait_for(500) == 500u);
  }
  running r(opts);  // prunes about a second after start
  auto deadline = std::chrono::steady_clock::now() + 15s;
  while (s.scalar("SELECT COUNT(*) FROM ev_ret") != "100" && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  BOOST_TEST(s.scalar("SELECT COUNT(*) FROM ev_ret") == "100");
}

BOOST_AUTO_TEST_CASE(database_restarted_mid_stream) {
  session s;
  s.exec("DROP TABLE IF EXISTS dbr_t");
  s.exec("CREATE TABLE dbr_t (id INT AUTO_INCREMENT PRIMARY KEY, v INT)");
  running r(options("ev_dbr", "dbr_t"));
  background_writer w("dbr_t", 5);
  BOOST_TEST_REQUIRE(r.sink.wait_for(300) >= 300u);
  esink_test::fixture_command("restart");
  std::size_t before = r.sink.snapshot().size();
  BOOST_TEST_REQUIRE(r.sink.wait_for(before + 300) >= before + 300);  // flowing again
  w.finish();
  session after;
  std::size_t total = std::stoul(after.scalar("SELECT COUNT(*) FROM dbr_t"));
  BOOST_TEST_REQUIRE(r.sink.wait_for(total) == total);
  r.source.stop();
  expect_exactly_the_table(r.sink.snapshot(), after, "dbr_t");
  auto st = r.sink.statuses;
  BOOST_TEST((std::find(st.begin(), st.end(), esink::error::source_unavailable) != st.end()));
  BOOST_TEST(!st.back());
  BOOST_TEST(r.source.stats().reconnects.load() >= 1u);
}

BOOST_AUTO_TEST_SUITE_END()
