// socketio_echo: a Socket.IO server built only on esink's public API.
//
// Namespaces `/` and `/custom` echo what clients send (the behaviour the official Socket.IO
// protocol test suite expects), and `/engine.io/` is a raw Engine.IO echo.
#include <esink/transport.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

namespace {

struct settings {
  esink::server_options server;
};

bool parse_number(const char* text, unsigned long long& out) {
  char* end = nullptr;
  out = std::strtoull(text, &end, 10);
  return end && *end == '\0' && end != text;
}

bool parse_args(int argc, char** argv, settings& s) {
  s.server.port = 3000;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if ((arg == "--tls-cert" || arg == "--tls-key") && i + 1 < argc) {
      (arg == "--tls-cert" ? s.server.tls_cert_file : s.server.tls_key_file) = argv[++i];
      continue;
    }
    unsigned long long v = 0;
    if (i + 1 >= argc || !parse_number(argv[i + 1], v)) {
      std::cerr << "socketio_echo: " << arg << " needs a number\n";
      return false;
    }
    ++i;
    if (arg == "--port" && v <= 65535) s.server.port = static_cast<std::uint16_t>(v);
    else if (arg == "--ping-interval") s.server.ping_interval = std::chrono::milliseconds(v);
    else if (arg == "--ping-timeout") s.server.ping_timeout = std::chrono::milliseconds(v);
    else if (arg == "--max-payload") s.server.max_payload = v;
    else {
      std::cerr << "socketio_echo: unknown option " << arg
                << " (use --port N, --ping-interval MS, --ping-timeout MS, --max-payload BYTES,"
                   " --tls-cert FILE --tls-key FILE)\n";
      return false;
    }
  }
  return true;
}

template <class Namespace> void serve_echo(Namespace& nsp) {
  nsp.on_connection([&nsp](const typename Namespace::socket_ptr& socket) {
    esink::message auth;
    auth.args.push_back(socket->client_handshake().auth);
    socket->emit("auth", auth);

    socket->on("message", [](auto& s, esink::message& m, auto) { s.emit("message-back", m); });
    socket->on("message-with-ack", [](auto&, esink::message& m, auto ack) { ack(m); });
    socket->on("broadcast", [&nsp](auto&, esink::message& m, auto) { nsp.emit("broadcast", m); });
    socket->on("join", [](auto& s, esink::message& m, auto ack) {
      if (!m.args.empty() && m.args[0].is_string()) s.join(std::string(m.args[0].get_string()));
      esink::message ok;
      ok.args.emplace_back(true);
      ack(ok);
    });
    socket->on("leave", [](auto& s, esink::message& m, auto ack) {
      if (!m.args.empty() && m.args[0].is_string()) s.leave(std::string(m.args[0].get_string()));
      esink::message ok;
      ok.args.emplace_back(true);
      ack(ok);
    });
    socket->on("to-room", [&nsp](auto&, esink::message& m, auto) {
      if (m.args.empty() || !m.args[0].is_string()) return;
      std::string room(m.args[0].get_string());
      m.args.erase(m.args.begin());
      nsp.emit_to(room, "room-message", m);
    });
    socket->on("request-ack", [](auto& s, esink::message& m, auto) {
      s.emit_with_ack("ack-request", m, [w = s.weak_from_this()](esink::message& reply) {
        if (auto self = w.lock()) self->emit("ack-response", reply);
      });
    });
    socket->on("disconnect-me", [](auto& s, esink::message&, auto) { s.disconnect(); });
  });
}

template <class Server> int run(const settings& s, sigset_t& stop_signals) {
  Server server(s.server);
  serve_echo(server.of("/"));
  serve_echo(server.of("/custom"));
  server.serve_engine("/engine.io/", [](auto& session, std::string_view data, bool binary) {
    session.send_message(std::string(data), binary);
  });

  std::error_code ec;
  server.start(ec);
  if (ec) {
    std::cerr << "socketio_echo: " << server.error_detail() << "\n";
    return 1;
  }
  std::cout << "listening on port " << server.local_port() << std::endl;

  int sig = 0;
  sigwait(&stop_signals, &sig);
  server.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  if (!parse_args(argc, argv, s)) return 2;

  // Block the stop signals in every thread; the server's owner waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  if (s.server.tls_cert_file.empty() != s.server.tls_key_file.empty()) {
    std::cerr << "socketio_echo: --tls-cert and --tls-key go together\n";
    return 2;
  }
  if (!s.server.tls_cert_file.empty()) return run<esink::tls_socketio_server>(s, stop_signals);
  return run<esink::socketio_server>(s, stop_signals);
}
