#include <esink/source/postgres.hpp>

#define BOOST_TEST_MODULE source_postgres
#include <boost/test/unit_test.hpp>

#include "pg_sink.hpp"
#include "pg_test_env.hpp"

#include <boost/json/serialize.hpp>

#include <atomic>
#include <set>
#include <thread>

using esink::change_event;
using esink::change_type;
using esink::postgres_options;
using esink::postgres_source;
using esink_test::pg_client;
using esink_test::recording_sink;
namespace json = boost::json;

namespace {

// The capture under test: CTest runs this program once per capture (source_postgres and
// source_postgres_logical), each with the common suite and the suite of its own capture.
std::string capture() {
  const char* v = std::getenv("ESINK_TEST_PG_CAPTURE");
  return v && *v ? v : "table";
}

// Each test gets its own esink schema and tables, so tests stay independent on one server.
postgres_options options(const std::string& schema, const std::string& tables,
                         const std::string& consumer = "esink") {
  postgres_options o;
  o.capture = capture();
  o.url = esink_test::pg_url();
  o.tables = tables;
  o.schema = schema;
  o.consumer = consumer;
  o.backoff_initial = std::chrono::milliseconds(50);
  o.backoff_max = std::chrono::milliseconds(500);
  return o;
}

// Stops the source when it goes out of scope: declared after the sink, it runs before the
// sink's destructor, so the source thread never calls a destroyed sink.
struct stop_on_exit {
  postgres_source& s;
  ~stop_on_exit() { s.stop(); }
};

// Starts a source that must fail; returns why, and leaves it stopped.
std::error_code start_fails(postgres_source& s, recording_sink& k) {
  std::error_code ec;
  s.start(k, ec);
  s.stop();
  return ec;
}

[[nodiscard]] stop_on_exit start_ok(postgres_source& s, recording_sink& k) {
  std::error_code ec;
  s.start(k, ec);
  BOOST_TEST_REQUIRE(!ec, ec.message() << ": " << s.error_message());
  return stop_on_exit{s};
}

// Every id strictly increasing; every value of `key` in `expected` exactly once, none else.
// `runs`: the events of several source objects in a row; with the logical capture each one
// numbers its positions from 1 again.
void check_exactly_once(const std::vector<change_event>& ev, const std::vector<std::int64_t>& expected,
                        const char* key = "id", bool runs = false) {
  std::set<std::int64_t> seen;
  std::uint64_t last = 0;
  for (auto& e : ev) {
    if (runs && capture() == "logical" && e.id == 1) last = 0;
    BOOST_TEST_REQUIRE(e.id > last);
    last = e.id;
    BOOST_TEST_REQUIRE(seen.insert(e.row.at(key).as_int64()).second, "duplicate " << e.row.at(key));
  }
  std::set<std::int64_t> want(expected.begin(), expected.end());
  BOOST_TEST(seen.size() == want.size());
  BOOST_TEST((seen == want));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(postgres_source_tests)

BOOST_AUTO_TEST_CASE(every_column_type_insert_update_delete) {
  pg_client db;
  db.exec("DROP SCHEMA IF EXISTS t_types CASCADE; CREATE SCHEMA t_types;"
          "CREATE TYPE t_types.mood AS ENUM ('sad', 'happy');"
          "CREATE TABLE t_types.all_types (id int PRIMARY KEY, i2 int2, i4 int4, i8 int8, num numeric,"
          " num_scaled numeric(30,10), txt text, vc varchar(10), b bool, j json, jb jsonb, d date,"
          " ts timestamp, tstz timestamptz, by bytea, arr int[], num_arr numeric[], txt_arr text[],"
          " m t_types.mood, f8 float8, n_null int)");
  postgres_source src(options("esink_types", "t_types.all_types"));
  recording_sink k([&](std::uint64_t id) { src.acknowledge(id); });
  auto running = start_ok(src, k);
  db.exec("SET TIME ZONE 'UTC';"
          "INSERT INTO t_types.all_types VALUES (1, -32768, 2147483647, 9223372036854775807,"
          " 123456789012345678901234567890.123456789012345678901, 1.5, 'quote \" back\\\\ \xc3\xa9\xe2\x82\xac \xf0\x9f\x98\x80 \n',"
          " 'short', true, '{\"a\": [1, 2.5, null], \"b\": {\"c\": \"d\"}}', '{\"k\": 18446744073709551615}',"
          " '2024-02-29', '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15.5+02', '\\x00ff10'::bytea,"
          " '{1,2,NULL}', '{1.10, 99999999999999999999.5}', '{\"a\",\"b c\"}', 'happy', 1.5, NULL)");
  db.exec("UPDATE t_types.all_types SET i8 = -9223372036854775808, txt = 'changed', b = false WHERE id = 1");
  db.exec("DELETE FROM t_types.all_types WHERE id = 1");
  BOOST_TEST_REQUIRE(k.wait_for(3) == 3u);
  auto ev = k.take();
  BOOST_TEST(ev[0].table == "t_types.all_types");
  BOOST_TEST((ev[0].type == change_type::insert));
  BOOST_TEST((ev[1].type == change_type::update));
  BOOST_TEST((ev[2].type == change_type::remove));
  const json::object& r = ev[0].row;
  BOOST_TEST(r.at("i2").as_int64() == -32768);
  BOOST_TEST(r.at("i4").as_int64() == 2147483647);
  BOOST_TEST(r.at("i8").as_int64() == 9223372036854775807LL);
  BOOST_TEST(r.at("num").as_string() == "123456789012345678901234567890.123456789012345678901");
  BOOST_TEST(r.at("num_scaled").as_string() == "1.5000000000");
  BOOST_TEST(r.at("txt").as_string() == "quote \" back\\\\ \xc3\xa9\xe2\x82\xac \xf0\x9f\x98\x80 \n");
  BOOST_TEST(r.at("vc").as_string() == "short");
  BOOST_TEST(r.at("b").as_bool() == true);
  BOOST_TEST(json::serialize(r.at("j")) == R"({"a":[1,2.5E0,null],"b":{"c":"d"}})");
  BOOST_TEST(r.at("jb").at("k").as_uint64() == 18446744073709551615ULL);
  BOOST_TEST(r.at("d").as_string() == "2024-02-29");
  BOOST_TEST(r.at("ts").as_string() == "2024-02-29T13:14:15.123456");
  BOOST_TEST(r.at("tstz").as_string() == "2024-02-29T11:14:15.5+00:00");
  BOOST_TEST(r.at("by").as_string() == "AP8Q");
  BOOST_TEST(json::serialize(r.at("arr")) == "[1,2,null]");
  BOOST_TEST(json::serialize(r.at("num_arr")) == R"(["1.10","99999999999999999999.5"])");
  BOOST_TEST(json::serialize(r.at("txt_arr")) == R"(["a","b c"])");
  BOOST_TEST(r.at("m").as_string() == "happy");
  BOOST_TEST(r.at("f8").as_double() == 1.5);
  BOOST_TEST(r.at("n_null").is_null());
  BOOST_TEST(ev[1].row.at("i8").as_int64() == std::numeric_limits<std::int64_t>::min());
  BOOST_TEST(ev[1].row.at("txt").as_string() == "changed");
  BOOST_TEST(ev[2].row.at("txt").as_string() == "changed");  // delete carries the old row
  BOOST_TEST(ev[2].row.at("id").as_int64() == 1);
  BOOST_TEST(ev[0].commit_time_us > 1'600'000'000'000'000LL);
  BOOST_TEST(ev[0].id < ev[1].id);
  BOOST_TEST(ev[1].id < ev[2].id);
}

BOOST_AUTO_TEST_CASE(awkward_table_names) {
  pg_client db;
  db.exec("DROP SCHEMA IF EXISTS \"Odd Schema\" CASCADE; CREATE SCHEMA \"Odd Schema\";"
          "DROP TABLE IF EXISTS \"select\", \"MixedCase\";"
          "CREATE TABLE \"select\" (id int); CREATE TABLE \"MixedCase\" (\"Id\" int);"
          "CREATE TABLE \"Odd Schema\".\"Events; DROP TABLE x\" (id int)");
  postgres_source src(options("esink \"awk\"", R"('"select", MixedCase, "Odd Schema"."Events; DROP TABLE x"')"));
  recording_sink k;
  auto running = start_ok(src, k);
  db.exec("INSERT INTO \"select\" VALUES (1); INSERT INTO \"MixedCase\" VALUES (2);"
          "INSERT INTO \"Odd Schema\".\"Events; DROP TABLE x\" VALUES (3)");
  BOOST_TEST_REQUIRE(k.wait_for(3) == 3u);
  auto ev = k.take();
  BOOST_TEST(ev[0].table == "select");
  BOOST_TEST(ev[1].table == "MixedCase");
  BOOST_TEST(ev[1].row.at("Id").as_int64() == 2);
  BOOST_TEST(ev[2].table == "Odd Schema.Events; DROP TABLE x");
}

BOOST_AUTO_TEST_CASE(unknown_table_is_a_startup_error) {
  pg_client db;
  db.exec("DROP TABLE IF EXISTS t_known; CREATE TABLE t_known (id int)");
  postgres_source src(options("esink_unknown", "t_known,no_such_table"));
  recording_sink k;
  std::error_code ec;
  src.start(k, ec);
  BOOST_TEST((ec == esink::error::unknown_table));
  BOOST_TEST(src.error_message().find("no_such_table") != std::string::npos, src.error_message());
  BOOST_CHECK_THROW(postgres_source(options("x", "a..b")), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(one_megabyte_text_and_bytea) {
  pg_client db;
  db.exec("DROP TABLE IF EXISTS t_big; CREATE TABLE t_big (id int, t text, b bytea)");
  postgres_source src(options("esink_big", "t_big"));
  recording_sink k;
  auto running = start_ok(src, k);
  // Commits although the row is far beyond NOTIFY's 8000-byte payload limit.
  db.exec("INSERT INTO t_big SELECT 1, repeat('x', 1048576), decode(repeat('ab', 1048576), 'hex')");
  BOOST_TEST_REQUIRE(k.wait_for(1) == 1u);
  auto ev = k.take();
  BOOST_TEST(ev[0].row.at("t").as_string().size() == 1048576u);
  auto& b64 = ev[0].row.at("b").as_string();
  BOOST_TEST(b64.size() == (1048576u + 2) / 3 * 4);
  BOOST_TEST(b64.subview(0, 8) == "q6urq6ur");
}

BOOST_AUTO_TEST_CASE(burst_of_100000_rows_in_order) {
  pg_client db;
  db.exec("DROP TABLE IF EXISTS t_burst; CREATE TABLE t_burst (id int PRIMARY KEY, v text)");
  postgres_source src(options("esink_burst", "t_burst"));
  recording_sink k;
  auto running = start_ok(src, k);
  for (int i = 0; i < 100; ++i)
    db.exec("INSERT INTO t_burst SELECT g, 'v' || g FROM generate_series(" + std::to_string(i * 1000 + 1) + ", " +
            std::to_string(i * 1000 + 1000) + ") g");
  BOOST_TEST_REQUIRE(k.wait_for(100000, std::chrono::seconds(120)) == 100000u);
  auto ev = k.take();
  for (std::size_t i = 0; i < ev.size(); ++i) {
    BOOST_TEST_REQUIRE(ev[i].row.at("id").as_int64() == static_cast<std::int64_t>(i + 1));
    if (i) BOOST_TEST_REQUIRE(ev[i].id == ev[i - 1].id + 1);
  }
}

BOOST_AUTO_TEST_CASE(earlier_id_committing_later_is_delivered_later) {
  pg_client a, b;
  a.exec("DROP TABLE IF EXISTS t_late; CREATE TABLE t_late (id int)");
  postgres_source src(options("esink_late", "t_late"));
  recording_sink k;
  auto running = start_ok(src, k);
  a.exec("BEGIN; INSERT INTO t_late VALUES (1)");  // takes the earlier event id
  b.exec("INSERT INTO t_late VALUES (2)");         // later id, commits first
  BOOST_TEST_REQUIRE(k.wait_for(1) == 1u);
  b.exec("BEGIN; INSERT INTO t_late VALUES (99); ROLLBACK");
  a.exec("COMMIT");
  BOOST_TEST_REQUIRE(k.wait_for(2) == 2u);
  auto ev = k.take();
  BOOST_TEST(ev[0].row.at("id").as_int64() == 2);
  BOOST_TEST(ev[1].row.at("id").as_int64() == 1);
  BOOST_TEST(ev.size() == 2u);
}

BOOST_AUTO_TEST_CASE(eight_concurrent_writers_with_rollbacks) {
  pg_client db;
  db.exec("DROP TABLE IF EXISTS t_conc; CREATE TABLE t_conc (id int PRIMARY KEY, writer int, seq int)");
  postgres_source src(options("esink_conc", "t_conc"));
  recording_sink k;
  auto running = start_ok(src, k);
  constexpr int writers = 8, txs = 150;
  std::vector<std::vector<std::int64_t>> committed(writers);
  std::vector<std::thread> th;
  for (int w = 0; w < writers; ++w)
    th.emplace_back([&, w] {
      pg_client c;
      for (int t = 0; t < txs; ++t) {
        const int id = w * 100000 + t * 10;
        const int rows = (t % 7 == 0) ? 5 : 1;  // some longer transactions
        std::string sql = "BEGIN;";
        for (int r = 0; r < rows; ++r)
          sql += "INSERT INTO t_conc VALUES (" + std::to_string(id + r) + "," + std::to_string(w) + "," +
                 std::to_string(t) + ");" + (r == 0 && rows > 1 ? "SELECT pg_sleep(0.002);" : "");
        const bool rollback = t % 5 == 3;
        c.exec(sql + (rollback ? "ROLLBACK" : "COMMIT"));
        if (!rollback)
          for (int r = 0; r < rows; ++r) committed[w].push_back(id + r);
      }
    });
  for (auto& t : th) t.join();
  std::vector<std::int64_t> all;
  for (auto& c : committed) all.insert(all.end(), c.begin(), c.end());
  BOOST_TEST_REQUIRE(k.wait_for(all.size(), std::chrono::seconds(60)) == all.size());
  auto ev = k.take();
  check_exactly_once(ev, all);
  // Each writer's transactions are sequential, so their commit order must show in delivery.
  std::vector<std::int64_t> last(writers, -1);
  for (auto& e : ev) {
    auto w = e.row.at("writer").as_int64(), id = e.row.at("id").as_int64();
    BOOST_TEST_REQUIRE(id > last[w]);
    last[w] = id;
  }
}

BOOST_AUTO_TEST_CASE(transaction_larger_than_a_batch_and_a_restart_inside_it) {
  pg_client db;
  db.exec("DROP TABLE IF EXISTS t_large; CREATE TABLE t_large (id int)");
  auto o = options("esink_large", "t_large");
  o.batch_size = 7;
  std::vector<change_event> first;
  {
    postgres_source src(o);
    // Acknowledges up to id 12 only: inside the first transaction.
    recording_sink k([&](std::uint64_t id) { src.acknowledge(std::min<std::uint64_t>(id, 12)); });
    auto running = start_ok(src, k);
    db.exec("INSERT INTO t_large SELECT generate_series(1, 30)");
    db.exec("INSERT INTO t_large SELECT generate_series(31, 33)");
    BOOST_TEST_REQUIRE(k.wait_for(33) == 33u);
    first = k.take();
  }
  BOOST_TEST_REQUIRE(first.size() == 33u);
  for (std::size_t i = 0; i < first.size(); ++i) {
    BOOST_TEST_REQUIRE(first[i].row.at("id").as_int64() == std::int64_t(i + 1));
    if (i) BOOST_TEST_REQUIRE(first[i].id == first[i - 1].id + 1);
  }
  if (capture() == "logical")  // the slot confirmed nothing: the 30-row transaction is unfinished
    BOOST_TEST(db.exec("SELECT done FROM esink_large.slots")[0] == "12");
  // The restart resumes after the acknowledged event, in the middle of the 30-row transaction.
  postgres_source src(o);
  recording_sink k;
  auto running = start_ok(src, k);
  db.exec("INSERT INTO t_large VALUES (34)");
  const std::size_t want = 33 - 12 + 1;
  BOOST_TEST_REQUIRE(k.wait_for(want) == want);
  auto ev = k.take();
  BOOST_TEST_REQUIRE(ev.size() == want);
  for (std::size_t i = 0; i < ev.size(); ++i) {
    // Table capture: positions live in the database and carry on. Logical capture: positions
    // are the process's own and start again at 1.
    BOOST_TEST_REQUIRE(ev[i].id == (capture() == "table" ? first[11].id : 0) + 1 + i);
    BOOST_TEST_REQUIRE(ev[i].row.at("id").as_int64() == std::int64_t(13 + i));
  }
}

BOOST_AUTO_TEST_SUITE_END()

// What only the event table has: its layout's upgrade and its retention.
BOOST_AUTO_TEST_SUITE(postgres_table_capture)

BOOST_AUTO_TEST_CASE(upgrade_from_the_pos_column_layout) {
  pg_client db;
  // The layout installed by earlier esinks: positions in events.pos, two sequenced transactions
  // (positions 11..13 and 14..15, older ones pruned), one committed but never sequenced, and a
  // cursor inside the first transaction.
  db.exec("DROP SCHEMA IF EXISTS esink_upg CASCADE; DROP TABLE IF EXISTS t_upg; CREATE TABLE t_upg (id int);"
          "CREATE SCHEMA esink_upg;"
          "CREATE TABLE esink_upg.events (id bigserial PRIMARY KEY,"
          " xid xid8 NOT NULL DEFAULT pg_current_xact_id(), tbl text NOT NULL, op text NOT NULL,"
          " row json NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp(), pos bigint UNIQUE);"
          "CREATE INDEX events_unsequenced ON esink_upg.events (xid) WHERE pos IS NULL;"
          "CREATE TABLE esink_upg.state (singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),"
          " next_pos bigint NOT NULL);"
          "INSERT INTO esink_upg.state VALUES (true, 15);"
          "CREATE TABLE esink_upg.consumers (name text PRIMARY KEY, pos bigint NOT NULL,"
          " updated_at timestamptz NOT NULL DEFAULT now());"
          "INSERT INTO esink_upg.consumers (name, pos) VALUES ('esink', 12);"
          "CREATE FUNCTION esink_upg.sequence(xids xid8[], catch_up boolean) RETURNS bigint"
          " LANGUAGE sql AS 'SELECT 0::bigint'");
  db.exec("INSERT INTO esink_upg.events (tbl, op, row, pos) VALUES ('t_upg', 'insert', '{\"id\":1}', 11),"
          " ('t_upg', 'insert', '{\"id\":2}', 12), ('t_upg', 'insert', '{\"id\":3}', 13)");
  db.exec("INSERT INTO esink_upg.events (tbl, op, row, pos) VALUES ('t_upg', 'insert', '{\"id\":4}', 14),"
          " ('t_upg', 'insert', '{\"id\":5}', 15)");
  db.exec("INSERT INTO esink_upg.events (tbl, op, row) VALUES ('t_upg', 'insert', '{\"id\":6}'),"
          " ('t_upg', 'update', '{\"id\":7}')");
  {
    postgres_source src(options("esink_upg", "t_upg"));
    recording_sink k([&](std::uint64_t id) { src.acknowledge(id); });
    auto running = start_ok(src, k);
    db.exec("INSERT INTO t_upg VALUES (8)");
    BOOST_TEST_REQUIRE(k.wait_for(6) == 6u);
    auto ev = k.take();
    BOOST_TEST_REQUIRE(ev.size() == 6u);
    for (std::size_t i = 0; i < ev.size(); ++i) {
      BOOST_TEST(ev[i].id == 13 + i);
      BOOST_TEST(ev[i].row.at("id").as_int64() == std::int64_t(3 + i));
    }
    BOOST_TEST((ev[4].type == change_type::update));
  }
  BOOST_TEST(db.exec("SELECT count(*) FROM pg_attribute WHERE attrelid = 'esink_upg.events'::regclass"
                     " AND attname = 'pos' AND NOT attisdropped")[0] == "0");
  BOOST_TEST(db.exec("SELECT count(*) FROM pg_proc WHERE proname = 'sequence'"
                     " AND pronamespace = 'esink_upg'::regnamespace")[0] == "0");
  BOOST_TEST(db.exec("SELECT pos FROM esink_upg.consumers WHERE name = 'esink'")[0] == "18");
  // The converted installation is an ordinary one: a second start resumes and carries on.
  postgres_source src(options("esink_upg", "t_upg"));
  recording_sink k;
  auto running = start_ok(src, k);
  db.exec("INSERT INTO t_upg VALUES (9)");
  BOOST_TEST_REQUIRE(k.wait_for(1) == 1u);
  auto ev = k.take();
  BOOST_TEST(ev.at(0).id == 19u);
  BOOST_TEST(ev.at(0).row.at("id").as_int64() == 9);
}

BOOST_AUTO_TEST_CASE(retention_keeps_the_newest_and_positions_dense) {
  pg_client db;
  db.exec("DROP SCHEMA IF EXISTS esink_ret CASCADE; DROP TABLE IF EXISTS t_ret; CREATE TABLE t_ret (id int)");
  auto o = options("esink_ret", "t_ret");
  o.retention_count = 5;
  {
    postgres_source src(o);
    recording_sink k([&](std::uint64_t id) { src.acknowledge(id); });
    auto running = start_ok(src, k);
    for (int i = 1; i <= 20; ++i) db.exec("INSERT INTO t_ret VALUES (" + std::to_string(i) + ")");
    BOOST_TEST_REQUIRE(k.wait_for(20) == 20u);
    const std::string newest_xid = db.exec("SELECT max(xid)::text FROM esink_ret.events")[0];
    // Pruning runs every 5 s; its marker NOTIFY then moves the catch-up horizon past every
    // transaction recorded so far.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline &&
           db.exec("SELECT count(*) FROM esink_ret.txns")[0] != "5")
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    BOOST_TEST(db.exec("SELECT count(*) FROM esink_ret.txns")[0] == "5");
    BOOST_TEST(db.exec("SELECT count(*) FROM esink_ret.events")[0] == "5");
    BOOST_TEST(db.exec("SELECT min(last)::text || '..' || max(last)::text FROM esink_ret.txns")[0] == "16..20");
    while (std::chrono::steady_clock::now() < deadline &&
           db.exec("SELECT (horizon > '" + newest_xid + "')::text FROM esink_ret.state")[0] != "true")
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    BOOST_TEST(db.exec("SELECT (horizon > '" + newest_xid + "')::text FROM esink_ret.state")[0] == "true");
  }
  db.exec("INSERT INTO t_ret VALUES (21)");
  postgres_source src(o);
  recording_sink k;
  auto running = start_ok(src, k);
  BOOST_TEST_REQUIRE(k.wait_for(1) == 1u);
  auto ev = k.take();
  BOOST_TEST(ev.at(0).id == 21u);
  BOOST_TEST(ev.at(0).row.at("id").as_int64() == 21);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(postgres_source_tests)

BOOST_AUTO_TEST_CASE(writes_commit_while_esink_is_down) {
  pg_client db;
  db.exec("DROP TABLE IF EXISTS t_down; CREATE TABLE t_down (id int)");
  {
    postgres_source src(options("esink_down", "t_down"));
    recording_sink k;
    auto running = start_ok(src, k);
    src.stop();
  }
  db.exec("INSERT INTO t_down SELECT generate_series(1, 50)");
  db.exec("BEGIN; INSERT INTO t_down VALUES (1000); ROLLBACK");
  BOOST_TEST(db.exec("SELECT count(*) FROM t_down")[0] == "50");
  postgres_source src(options("esink_down", "t_down"));
  recording_sink k;
  auto running = start_ok(src, k);
  BOOST_TEST_REQUIRE(k.wait_for(50) == 50u);
  std::vector<std::int64_t> want;
  for (int i = 1; i <= 50; ++i) want.push_back(i);
  check_exactly_once(k.take(), want);
}

BOOST_AUTO_TEST_CASE(esink_restarted_mid_stream) {
  pg_client db;
  db.exec("DROP TABLE IF EXISTS t_erst; CREATE TABLE t_erst (id int)");
  { postgres_source s(options("esink_erst", "t_erst")); recording_sink k; auto running = start_ok(s, k); }
  std::atomic<bool> done{false};
  std::thread writer([&] {
    pg_client c;
    for (int i = 1; i <= 3000; ++i) c.exec("INSERT INTO t_erst VALUES (" + std::to_string(i) + ")");
    done = true;
  });
  std::vector<change_event> all;
  for (int round = 0; round < 3; ++round) {
    postgres_source src(options("esink_erst", "t_erst"));
    recording_sink k([&](std::uint64_t id) { src.acknowledge(id); });
    auto running = start_ok(src, k);
    k.wait_for(300, std::chrono::seconds(3));  // a deadline: the writer may already be done
    src.stop();
    auto ev = k.take();
    all.insert(all.end(), ev.begin(), ev.end());
  }
  writer.join();
  postgres_source src(options("esink_erst", "t_erst"));
  recording_sink k([&](std::uint64_t id) { src.acknowledge(id); });
  auto running = start_ok(src, k);
  BOOST_TEST_REQUIRE(k.wait_for(3000 - all.size()) == 3000 - all.size());
  auto ev = k.take();
  all.insert(all.end(), ev.begin(), ev.end());
  std::vector<std::int64_t> want;
  for (int i = 1; i <= 3000; ++i) want.push_back(i);
  check_exactly_once(all, want, "id", true);
  for (std::size_t i = 0; i < all.size(); ++i) BOOST_TEST_REQUIRE(all[i].row.at("id").as_int64() == std::int64_t(i + 1));
}

BOOST_AUTO_TEST_CASE(two_sources_started_at_once) {
  pg_client db;
  db.exec("DROP SCHEMA IF EXISTS esink_two CASCADE; DROP TABLE IF EXISTS t_two; CREATE TABLE t_two (id int)");
  postgres_source a(options("esink_two", "t_two", "first")), b(options("esink_two", "t_two", "second"));
  recording_sink ka, kb;
  std::error_code eca, ecb;
  std::thread ta([&] { a.start(ka, eca); }), tb([&] { b.start(kb, ecb); });
  ta.join();
  tb.join();
  stop_on_exit stop_a{a}, stop_b{b};
  BOOST_TEST_REQUIRE(!eca, a.error_message());
  BOOST_TEST_REQUIRE(!ecb, b.error_message());
  BOOST_TEST(db.exec("SELECT count(*) FROM pg_trigger WHERE tgrelid = 't_two'::regclass")[0] == "3");
  for (int i = 1; i <= 500; ++i) db.exec("INSERT INTO t_two VALUES (" + std::to_string(i) + ")");
  BOOST_TEST_REQUIRE(ka.wait_for(500) == 500u);
  BOOST_TEST_REQUIRE(kb.wait_for(500) == 500u);
  auto ea = ka.take(), eb = kb.take();
  std::vector<std::int64_t> want;
  for (int i = 1; i <= 500; ++i) want.push_back(i);
  check_exactly_once(ea, want);
  check_exactly_once(eb, want);
  for (std::size_t i = 0; i < ea.size(); ++i) BOOST_TEST_REQUIRE(ea[i].id == eb[i].id);
}

BOOST_AUTO_TEST_CASE(database_restarted_mid_stream) {
  pg_client db;
  db.exec("DROP TABLE IF EXISTS t_prst; CREATE TABLE t_prst (id int PRIMARY KEY)");
  postgres_source src(options("esink_prst", "t_prst"));
  recording_sink k([&](std::uint64_t id) { src.acknowledge(id); });
  auto running = start_ok(src, k);
  std::atomic<int> next{1};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::unique_ptr<pg_client> c;
    while (!stop) {
      try {
        if (!c) c = std::make_unique<pg_client>();
        // Idempotent insert: a commit whose reply was lost may be retried safely.
        if (c->try_exec("INSERT INTO t_prst VALUES (" + std::to_string(next) + ") ON CONFLICT DO NOTHING")) ++next;
        else c.reset();
      } catch (const std::exception&) {
        c.reset();
        std::this_thread::yield();
      }
    }
  });
  k.wait_for(200);
  esink_test::pg_restart();
  const int after = next;
  k.wait_for(static_cast<std::size_t>(after) + 200);
  stop = true;
  writer.join();
  pg_client check;
  const auto rows = std::stoul(check.exec("SELECT count(*) FROM t_prst")[0]);
  BOOST_TEST_REQUIRE(k.wait_for(rows, std::chrono::seconds(60)) == rows);
  std::vector<std::int64_t> want;
  for (auto& s : check.exec("SELECT id FROM t_prst")) want.push_back(std::stoll(s));
  auto ev = k.take();
  check_exactly_once(ev, want);
  for (std::size_t i = 1; i < ev.size(); ++i)  // one sequential writer: commit order is id order
    BOOST_TEST_REQUIRE(ev[i].row.at("id").as_int64() > ev[i - 1].row.at("id").as_int64());
  BOOST_TEST(rows > 400u);
}

BOOST_AUTO_TEST_SUITE_END()

// What only the logical capture has: its replication slot.
BOOST_AUTO_TEST_SUITE(postgres_logical_capture)

std::string slot_of(pg_client& db, const std::string& schema) {
  auto v = db.exec("SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'esink\\_" + schema + "\\_%'");
  BOOST_TEST_REQUIRE(v.size() == 1u);
  return v[0];
}

BOOST_AUTO_TEST_CASE(the_slot_confirms_what_was_acknowledged_and_no_more) {
  pg_client db;
  db.exec("DROP TABLE IF EXISTS t_conf; CREATE TABLE t_conf (id int)");
  {
    postgres_source src(options("esink_conf", "t_conf"));
    recording_sink k([&](std::uint64_t id) { src.acknowledge(std::min<std::uint64_t>(id, 5)); });
    auto running = start_ok(src, k);
    for (int i = 1; i <= 10; ++i) db.exec("INSERT INTO t_conf VALUES (" + std::to_string(i) + ")");
    BOOST_TEST_REQUIRE(k.wait_for(10) == 10u);
  }
  // The slot stays, inactive, and holds the five transactions not acknowledged.
  const std::string slot = slot_of(db, "esink_conf");
  BOOST_TEST(db.exec("SELECT active::text FROM pg_replication_slots WHERE slot_name = '" + slot + "'")[0] == "false");
  postgres_source src(options("esink_conf", "t_conf"));
  recording_sink k([&](std::uint64_t id) { src.acknowledge(id); });
  auto running = start_ok(src, k);
  BOOST_TEST_REQUIRE(k.wait_for(5) == 5u);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  check_exactly_once(k.take(), {6, 7, 8, 9, 10});
}

BOOST_AUTO_TEST_CASE(reset_on_start_recreates_the_slot_at_the_end) {
  pg_client db;
  db.exec("DROP TABLE IF EXISTS t_reset; CREATE TABLE t_reset (id int)");
  { postgres_source s(options("esink_reset", "t_reset")); recording_sink k; auto running = start_ok(s, k); }
  db.exec("INSERT INTO t_reset SELECT generate_series(1, 20)");  // committed while esink is down
  auto o = options("esink_reset", "t_reset");
  o.reset_on_start = true;
  postgres_source src(o);
  recording_sink k([&](std::uint64_t id) { src.acknowledge(id); });
  auto running = start_ok(src, k);
  db.exec("INSERT INTO t_reset VALUES (21)");
  BOOST_TEST_REQUIRE(k.wait_for(1) == 1u);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  check_exactly_once(k.take(), {21});
}

BOOST_AUTO_TEST_CASE(an_idle_slot_does_not_hold_wal_back) {
  pg_client db;
  db.exec("DROP TABLE IF EXISTS t_idle; DROP TABLE IF EXISTS t_other; CREATE TABLE t_idle (id int); CREATE TABLE t_other (id int)");
  postgres_source src(options("esink_idle", "t_idle"));
  recording_sink k([&](std::uint64_t id) { src.acknowledge(id); });
  auto running = start_ok(src, k);
  db.exec("INSERT INTO t_idle VALUES (1)");
  BOOST_TEST_REQUIRE(k.wait_for(1) == 1u);
  // WAL that carries nothing for esink: the slot must move past it once it was streamed.
  db.exec("INSERT INTO t_other SELECT generate_series(1, 20000)");
  const std::string slot = slot_of(db, "esink_idle");
  const std::string wal = db.exec("SELECT pg_current_wal_lsn()::text")[0];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto confirmed = [&] {
    return db.exec("SELECT (confirmed_flush_lsn >= '" + wal + "')::text FROM pg_replication_slots WHERE slot_name = '" +
                   slot + "'")[0] == "true";
  };
  while (std::chrono::steady_clock::now() < deadline && !confirmed())
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  BOOST_TEST(confirmed(), "the slot's confirmed_flush_lsn reaches " << wal);
  BOOST_TEST(k.take().size() == 1u);
}

BOOST_AUTO_TEST_CASE(a_terminated_stream_reconnects_without_loss_or_duplicates) {
  pg_client db;
  db.exec("DROP TABLE IF EXISTS t_kill; CREATE TABLE t_kill (id int)");
  postgres_source src(options("esink_kill", "t_kill"));
  recording_sink k([&](std::uint64_t id) { src.acknowledge(id); });
  auto running = start_ok(src, k);
  std::thread writer([] {
    pg_client c;
    // Multi-row transactions too: a stream cut inside one resumes after its delivered part.
    for (int i = 1; i <= 3000; i += 3) {
      if (i % 2) c.exec("INSERT INTO t_kill VALUES (" + std::to_string(i) + ")," + "(" + std::to_string(i + 1) + "),(" +
                        std::to_string(i + 2) + ")");
      else for (int j = 0; j < 3; ++j) c.exec("INSERT INTO t_kill VALUES (" + std::to_string(i + j) + ")");
    }
  });
  const std::string slot = slot_of(db, "esink_kill");
  for (int cut = 0; cut < 3; ++cut) {
    k.wait_for(static_cast<std::size_t>(500 * (cut + 1)), std::chrono::seconds(10));
    db.exec("SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = '" + slot +
            "' AND active_pid IS NOT NULL");
  }
  writer.join();
  BOOST_TEST_REQUIRE(k.wait_for(3000, std::chrono::seconds(60)) == 3000u);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::vector<std::int64_t> want;
  for (int i = 1; i <= 3000; ++i) want.push_back(i);
  auto ev = k.take();
  check_exactly_once(ev, want);
  for (std::size_t i = 0; i < ev.size(); ++i) BOOST_TEST_REQUIRE(ev[i].row.at("id").as_int64() == std::int64_t(i + 1));
}

BOOST_AUTO_TEST_CASE(one_slot_per_consumer_a_second_esink_is_told_why) {
  pg_client db;
  db.exec("DROP TABLE IF EXISTS t_dup; CREATE TABLE t_dup (id int)");
  postgres_source a(options("esink_dup", "t_dup"));
  recording_sink ka;
  auto running = start_ok(a, ka);
  postgres_source b(options("esink_dup", "t_dup"));
  recording_sink kb;
  BOOST_TEST(start_fails(b, kb) == esink::error::source_unavailable);
  BOOST_TEST(b.error_message().find("another esink with the same ESINK_CONSUMER") != std::string::npos, b.error_message());
}

BOOST_AUTO_TEST_CASE(a_user_without_replication_is_told_what_is_missing) {
  pg_client db;
  db.exec("DROP SCHEMA IF EXISTS esink_norepl CASCADE; DROP TABLE IF EXISTS t_norepl; DROP ROLE IF EXISTS esink_norepl;"
          "CREATE ROLE esink_norepl LOGIN NOREPLICATION; GRANT CREATE ON DATABASE esink_test TO esink_norepl;"
          "CREATE TABLE t_norepl (id int); ALTER TABLE t_norepl OWNER TO esink_norepl");
  auto o = options("esink_norepl", "t_norepl");
  const auto at = o.url.find("esink@");
  BOOST_TEST_REQUIRE(at != std::string::npos);
  o.url.replace(at, 6, "esink_norepl@");
  postgres_source src(o);
  recording_sink k;
  BOOST_TEST(start_fails(src, k) == esink::error::source_fatal);
  BOOST_TEST(src.error_message().find("REPLICATION") != std::string::npos, src.error_message());
}

BOOST_AUTO_TEST_CASE(a_bad_capture_name_is_refused) {
  auto o = options("esink_bad", "t_bad");
  o.capture = "wal";
  BOOST_CHECK_EXCEPTION(postgres_source{o}, std::invalid_argument, [](const std::invalid_argument& e) {
    return std::string(e.what()).find("ESINK_PG_CAPTURE: expected 'table' or 'logical', got 'wal'") != std::string::npos;
  });
}

BOOST_AUTO_TEST_SUITE_END()
