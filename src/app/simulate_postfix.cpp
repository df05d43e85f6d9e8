#include "simulate_postfix.hpp"

#include <charconv>
#include <chrono>

#include "drive/daemon_client.hpp"
#include "drive/smtp_client.hpp"

namespace pw::app {
namespace {

constexpr std::chrono::milliseconds io_timeout{30'000};

result<std::pair<std::string, std::uint16_t>> host_port(const std::string& text) {
  const auto colon = text.rfind(':');
  std::uint16_t port = 0;
  if (colon == std::string::npos ||
      std::from_chars(text.data() + colon + 1, text.data() + text.size(), port).ec != std::errc{} || port == 0) {
    return make_error(errc::invalid_config, "expected host:port, got \"" + text + "\"");
  }
  return std::pair{text.substr(0, colon), port};
}

behavior::level parse_level(const std::optional<std::string>& name) {
  if (!name) return behavior::level::normal;
  if (*name == "hold") return behavior::level::hold;
  if (*name == "throttle") return behavior::level::throttle;
  if (*name == "watch") return behavior::level::watch;
  return behavior::level::normal;
}

class postfix_port final : public sim::relay_port {
 public:
  postfix_port(drive::smtp_client smtp, drive::daemon_client api, const identity::directory& directory)
      : _smtp(std::move(smtp)), _api(std::move(api)), _directory(directory) {}

  result<sim::submission_result> submit(const sim::submission& s) override {
    if (auto r = _api.set_clock(s.now_ms); !r) return r.error();
    drive::smtp_submission m;
    m.xclient_addr = std::string(s.client_addr);
    m.xclient_login = std::string(s.login);
    m.helo = std::string(s.helo);
    m.sender = std::string(s.sender);
    m.recipients.assign(s.recipients.begin(), s.recipients.end());
    m.data = s.content->raw;
    auto replies = _smtp.send(m);
    if (!replies) return replies.error();
    if (replies->mail / 100 != 2) {
      return make_error(errc::unavailable, "the relay refused MAIL FROM with " + std::to_string(replies->mail) + ": " +
                                               replies->final_text);
    }
    sim::submission_result out;
    out.accepted.assign(s.recipients.size(), false);
    bool any = false;
    for (std::size_t i = 0; i < replies->rcpt.size() && i < s.recipients.size(); ++i) {
      const int code = replies->rcpt[i];
      if (code / 100 == 2) {
        out.accepted[i] = true;
        any = true;
      } else if (code / 100 != 4) {
        return make_error(errc::unavailable, "the relay answered RCPT with " + std::to_string(code) +
                                                 " (not a Portwarden answer: check the relay's configuration)");
      }
    }
    if (any && replies->data / 100 == 4) {  // the milter's 451 at end of message
      out.tempfailed = true;
      out.accepted.assign(s.recipients.size(), false);
    } else if (any && replies->data / 100 != 2) {
      return make_error(errc::unavailable, "the relay answered the message with " + std::to_string(replies->data) +
                                               ": " + replies->final_text);
    }
    const identity::resolution who = identity::resolve(_directory, s.login, s.client_addr, {});
    auto status = _api.subscriber(who.who.id);
    if (status.failed()) return status.error();
    out.level = status.found() ? parse_level(status.value().level) : behavior::level::normal;
    out.held = any && !out.tempfailed && out.level == behavior::level::hold;
    return out;
  }

  result<void> release(std::string_view, std::string_view, std::int64_t) override {
    // Never called: this port does not simulate the desk (simulates_desk() is false), so no simulated
    // customer releases anything; holds are released by the daemon's own desk or time out.
    return make_error(errc::unavailable, "a run through Postfix does not simulate the abuse desk's customers");
  }

 private:
  drive::smtp_client _smtp;
  drive::daemon_client _api;
  const identity::directory& _directory;
};

}  // namespace

result<std::unique_ptr<sim::relay_port>> make_postfix_port(const std::string& smtp, const std::string& api,
                                                           const identity::directory& directory) {
  auto smtp_at = host_port(smtp);
  if (!smtp_at) return make_error(errc::invalid_config, "--smtp: " + smtp_at.error().message);
  auto api_at = host_port(api);
  if (!api_at) return make_error(errc::invalid_config, "--api: " + api_at.error().message);
  auto s = drive::smtp_client::connect(smtp_at->first, smtp_at->second, io_timeout);
  if (!s) return make_error(s.error().code, "relay " + smtp + ": " + s.error().message);
  auto a = drive::daemon_client::connect(api_at->first, api_at->second, io_timeout);
  if (!a) return make_error(a.error().code, "daemon API " + api + ": " + a.error().message);
  return std::unique_ptr<sim::relay_port>(std::make_unique<postfix_port>(std::move(*s), std::move(*a), directory));
}

}  // namespace pw::app
