// drive_probe — pw_drive's clients from the command line, for tests/drive/drive_test.sh.
//   drive_probe clock HTTP_PORT NOW_MS
//       PUT /api/v1/clock; prints "ok" or "error: ..." (exit 1).
//   drive_probe subscriber HTTP_PORT ID
//       prints "found level=L last_seen_ms=N decisions=N held=N", "not_found", or "error: ..." (exit 1).
//   drive_probe send SMTP_PORT ADDR LOGIN HELO SENDER RCPTS MESSAGE_FILE [ADDR LOGIN ...]...
//       sends each group of six on ONE client (RSET and XCLIENT between them); "-" is an empty ADDR
//       or LOGIN; RCPTS is comma-separated. Prints "mail=C rcpt=C,C data=C" per message.
//       PW_PROBE_PAUSE_MS=N waits N ms between messages (to let the server end an idle connection).
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "drive/daemon_client.hpp"
#include "drive/smtp_client.hpp"

namespace {

using namespace std::chrono_literals;

std::uint16_t port_of(const char* s) {
  unsigned v = 0;
  std::from_chars(s, s + std::char_traits<char>::length(s), v);
  return static_cast<std::uint16_t>(v);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep)) {
    out.push_back(part);
  }
  return out;
}

int clock(int argc, char** argv) {
  if (argc != 4) {
    return 2;
  }
  auto d = pw::drive::daemon_client::connect("127.0.0.1", port_of(argv[2]), 5s);
  if (!d) {
    std::cout << "error: " << d.error().message << "\n";
    return 1;
  }
  auto r = d->set_clock(std::stoll(argv[3]));
  if (!r) {
    std::cout << "error: " << r.error().message << "\n";
    return 1;
  }
  std::cout << "ok\n";
  return 0;
}

int subscriber(int argc, char** argv) {
  if (argc != 4) {
    return 2;
  }
  auto d = pw::drive::daemon_client::connect("127.0.0.1", port_of(argv[2]), 5s);
  if (!d) {
    std::cout << "error: " << d.error().message << "\n";
    return 1;
  }
  auto s = d->subscriber(argv[3]);
  if (s.failed()) {
    std::cout << "error: " << s.error().message << "\n";
    return 1;
  }
  if (s.missing()) {
    std::cout << "not_found\n";
    return 0;
  }
  std::cout << "found level=" << s->level.value_or("none")
            << " last_seen_ms=" << (s->last_seen_ms ? std::to_string(*s->last_seen_ms) : "none")
            << " decisions=" << s->decisions.size() << " held=" << s->held.size();
  for (const auto& dec : s->decisions) {
    std::cout << " decision_at_ms=" << dec.at_ms;
  }
  std::cout << "\n";
  return 0;
}

int send(int argc, char** argv) {
  if (argc < 9 || (argc - 3) % 6 != 0) {
    return 2;
  }
  auto c = pw::drive::smtp_client::connect("127.0.0.1", port_of(argv[2]), 30s);
  if (!c) {
    std::cout << "error: " << c.error().message << "\n";
    return 1;
  }
  const char* pause = std::getenv("PW_PROBE_PAUSE_MS");
  for (int i = 3; i < argc; i += 6) {
    if (i > 3 && pause != nullptr) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::stoll(pause)));
    }
    std::ifstream file(argv[i + 5], std::ios::binary);
    std::ostringstream text;
    text << file.rdbuf();
    const std::string message = text.str();
    pw::drive::smtp_submission s;
    s.xclient_addr = std::string(argv[i]) == "-" ? "" : argv[i];
    s.xclient_login = std::string(argv[i + 1]) == "-" ? "" : argv[i + 1];
    s.helo = argv[i + 2];
    s.sender = argv[i + 3];
    s.recipients = split(argv[i + 4], ',');
    s.data = message;
    auto r = c->send(s);
    if (!r) {
      std::cout << "error: " << r.error().message << "\n";
      return 1;
    }
    std::cout << "mail=" << r->mail << " rcpt=";
    for (std::size_t k = 0; k < r->rcpt.size(); ++k) {
      std::cout << (k == 0 ? "" : ",") << r->rcpt[k];
    }
    std::cout << " data=" << r->data << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string what = argc > 1 ? argv[1] : "";
  int rc = 2;
  if (what == "clock") {
    rc = clock(argc, argv);
  } else if (what == "subscriber") {
    rc = subscriber(argc, argv);
  } else if (what == "send") {
    rc = send(argc, argv);
  }
  if (rc == 2) {
    std::cerr << "usage: see the comment at the top of tests/drive/drive_probe.cpp\n";
  }
  return rc;
}
