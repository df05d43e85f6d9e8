#include "desk_cli.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "auth/password.hpp"
#include "config/config.hpp"
#include "desk/port25.hpp"
#include "ledger/sqlite_ledger.hpp"

namespace pw::app {
namespace {

constexpr int exit_ok = 0;
constexpr int exit_usage = 2;
constexpr int exit_error = 3;

int fail(const std::string& what) {
  std::fprintf(stderr, "portwarden: %s\n", what.c_str());
  return exit_error;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct opened {
  config::settings settings;
  std::unique_ptr<ledger::ledger> book;
};

result<opened> open_ledger(const std::string& config_path) {
  auto loaded = config::load_file(config_path);
  if (!loaded) {
    return loaded.error();
  }
  auto book = ledger::open_sqlite_ledger(config::desk_ledger_path(loaded->values));
  if (!book) {
    return error{book.error().code, config::desk_ledger_path(loaded->values) + ": " + book.error().message};
  }
  return opened{std::move(loaded->values), std::move(*book)};
}

}  // namespace

int run_desk_user_add(const desk_user_options& o) {
  const auto role = ledger::parse_role(o.role);
  if (!role) {
    std::fprintf(stderr, "portwarden desk user add: --role must be viewer, operator or admin\n");
    return exit_usage;
  }
  if (o.name.empty() || o.name.size() > 64 ||
      o.name.find_first_of(" \t\r\n/\\:") != std::string::npos) {
    std::fprintf(stderr, "portwarden desk user add: a user name is 1 to 64 characters without spaces, / \\ or :\n");
    return exit_usage;
  }
  if (::isatty(STDIN_FILENO) != 0) {
    std::fprintf(stderr, "Password for %s (one line): ", o.name.c_str());
  }
  std::string password;
  if (!std::getline(std::cin, password) || password.size() < 12) {
    std::fprintf(stderr, "portwarden desk user add: give a password of at least 12 characters on standard input\n");
    return exit_usage;
  }
  if (!password.empty() && password.back() == '\r') {
    password.pop_back();
  }
  auto book = open_ledger(o.config_path);
  if (!book) {
    return fail(book.error().message);
  }
  auto hash = auth::hash_password(password);
  if (!hash) {
    return fail(hash.error().message);
  }
  ledger::user_row u{o.name, *hash, *role, now_ms(), false};
  auto existing = book->book->find_user(o.name);
  if (existing.failed()) {
    return fail(existing.error().message);
  }
  if (existing.found() && !o.replace) {
    return fail("user " + o.name + " exists (use --replace to set a new password and role)");
  }
  if (existing.found()) {
    u.created_ms = existing->created_ms;
  }
  const auto written = existing.found() ? book->book->update_user(u) : book->book->add_user(u);
  if (!written) {
    return fail(written.error().message);
  }
  ledger::audit_row a;
  a.at_ms = now_ms();
  a.actor = "cli";
  a.action = existing.found() ? "user_replace" : "user_add";
  a.target = "user:" + o.name;
  a.detail = "role " + std::string(ledger::role_name(*role));
  (void)book->book->append_audit(a);
  std::printf("%s %s (%s)\n", existing.found() ? "updated" : "added", o.name.c_str(),
              std::string(ledger::role_name(*role)).c_str());
  return exit_ok;
}

int run_desk_user_list(const std::string& config_path) {
  auto book = open_ledger(config_path);
  if (!book) {
    return fail(book.error().message);
  }
  auto users = book->book->list_users();
  if (!users) {
    return fail(users.error().message);
  }
  for (const auto& u : *users) {
    std::printf("%s\t%s\t%s\n", u.name.c_str(), std::string(ledger::role_name(u.user_role)).c_str(),
                u.disabled ? "disabled" : "active");
  }
  return exit_ok;
}

int run_port25_export(const port25_export_options& o) {
  const auto format = desk::parse_export_format(o.format);
  if (!format) {
    std::fprintf(stderr, "portwarden port25 export: --format must be nft, json or csv\n");
    return exit_usage;
  }
  auto book = open_ledger(o.config_path);
  if (!book) {
    return fail(book.error().message);
  }
  const config::settings& s = book->settings;
  auto directory = config::load_directory(s);
  if (!directory) {
    return fail(directory.error().message);
  }
  // The subscriber table knows the addresses; one row per subscriber with all its networks.
  std::vector<ledger::subscriber_row> subscribers;
  std::map<std::string, std::size_t> index;
  (*directory)->for_each_network([&](const identity::subscriber& who, const std::string& cidr) {
    auto [it, fresh] = index.emplace(who.id, subscribers.size());
    if (fresh) {
      subscribers.push_back(ledger::subscriber_row{who.id, who.plan, {}, {}, 0});
    }
    subscribers[it->second].addresses.push_back(cidr);
  });
  std::vector<ledger::exemption_row> exemptions;
  ledger::page_request page;
  page.limit = 1000;
  while (true) {
    auto rows = book->book->list_exemptions(std::nullopt, page);
    if (!rows) {
      return fail(rows.error().message);
    }
    exemptions.insert(exemptions.end(), rows->begin(), rows->end());
    if (rows->size() < page.limit) {
      break;
    }
    page.before_id = rows->back().id;
  }
  desk::plan_defaults open_plans;
  for (const auto& p : s.engine.plans) {
    open_plans[p.name] = config::desk_rules_for(s.desk, p.name).port25_open_by_default;
  }
  const desk::port25_allow_list list = desk::build_port25_allow_list(subscribers, exemptions, open_plans, now_ms());
  for (const auto& w : list.warnings) {
    std::fprintf(stderr, "portwarden port25 export: warning: %s\n", w.c_str());
  }
  const std::string text = desk::render_export(list, *format);
  if (o.output.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return exit_ok;
  }
  const std::string temp = o.output + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.flush();
    if (!out) {
      std::filesystem::remove(temp);
      return fail("cannot write " + temp);
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, o.output, ec);
  if (ec) {
    std::filesystem::remove(temp);
    return fail("cannot replace " + o.output + ": " + ec.message());
  }
  std::fprintf(stderr, "portwarden port25 export: %zu addresses (%zu IPv4, %zu IPv6 set elements) → %s\n",
               list.entries.size(), list.nft_v4.size(), list.nft_v6.size(), o.output.c_str());
  return exit_ok;
}

}  // namespace pw::app
