// A complete esink server of your own: changes to a SQLite `tasks` table go to the user each
// task is assigned to (urgent tasks to everyone), clients sign in with an HS256 JWT whose
// `sub` is their user id, and nobody ever sees the `internal_notes` column.
//
//   own_service DB.sqlite JWT_SECRET [PORT]
#include <esink/auth/jwt.hpp>
#include <esink/router/user_key.hpp>
#include <esink/service.hpp>
#include <esink/source/sqlite.hpp>
#include <esink/transport.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>

// A Router of our own (router/concept.hpp): who receives a row, and what of it they see.
struct task_router {
  void route(std::string_view table, const boost::json::object& row, esink::route_result& out) const {
    out.clear();
    if (table != "tasks") return;
    if (auto* p = row.if_contains("priority"); p && p->is_string() && p->get_string() == "urgent") {
      out.everyone = true;
      return;
    }
    if (auto* assignee = row.if_contains("assignee"))
      if (auto key = esink::user_key(*assignee)) out.users.push_back(std::move(*key));
  }
  void filter(std::string_view, boost::json::object& data) const { data.erase("internal_notes"); }
};

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: own_service DB.sqlite JWT_SECRET [PORT]\n";
    return 2;
  }
  // Block the stop signals before any thread starts, so only sigwait below sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  esink::sqlite_options source_options;
  source_options.path = argv[1];
  source_options.tables = "tasks";
  esink::sqlite_source source(source_options);

  esink::jwt_options auth_options;
  auth_options.secret = argv[2];
  esink::jwt_auth auth(auth_options);

  task_router router;

  esink::server_options server_options;
  server_options.port = static_cast<std::uint16_t>(argc > 3 ? std::atoi(argv[3]) : 3000);
  esink::socketio_server transport(server_options);

  // The pipeline, assembled at compile time: each policy is checked by its concept.
  esink::service<esink::sqlite_source, esink::jwt_auth, task_router, esink::socketio_server> service(
      source, auth, router, transport);
  std::error_code ec;
  service.start(ec);
  if (ec) {
    std::cerr << "cannot start: " << service.error_message() << "\n";
    return 1;
  }
  std::cout << "listening on port " << transport.local_port() << std::endl;

  int signal = 0;
  sigwait(&stop, &signal);
  service.stop();  // delivers what was already read, then closes every client
  return 0;
}
