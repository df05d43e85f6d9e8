#include "ledger/ledger.hpp"

#include <array>
#include <utility>

namespace pw::ledger {
namespace {

// The names are what the ledger stores and the desk shows; changing one is a schema migration.
constexpr std::array<std::pair<case_status, std::string_view>, 5> status_names{{
    {case_status::open, "open"},
    {case_status::notified, "notified"},
    {case_status::monitoring, "monitoring"},
    {case_status::escalated, "escalated"},
    {case_status::resolved, "resolved"},
}};

constexpr std::array<std::pair<exemption_status, std::string_view>, 5> exemption_status_names{{
    {exemption_status::pending, "pending"},
    {exemption_status::active, "active"},
    {exemption_status::suspended, "suspended"},
    {exemption_status::refused, "refused"},
    {exemption_status::revoked, "revoked"},
}};

constexpr std::array<std::pair<role, std::string_view>, 3> role_names{{
    {role::viewer, "viewer"},
    {role::operator_, "operator"},
    {role::admin, "admin"},
}};

template <class Enum, std::size_t n>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, n>& names, Enum value) noexcept {
  for (const auto& [e, name] : names) {
    if (e == value) {
      return name;
    }
  }
  return {};
}

template <class Enum, std::size_t n>
std::optional<Enum> parse(const std::array<std::pair<Enum, std::string_view>, n>& names,
                          std::string_view text) noexcept {
  for (const auto& [e, name] : names) {
    if (name == text) {
      return e;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string_view status_name(case_status s) noexcept { return name_of(status_names, s); }
std::optional<case_status> parse_status(std::string_view s) noexcept { return parse(status_names, s); }

std::string_view exemption_status_name(exemption_status s) noexcept { return name_of(exemption_status_names, s); }
std::optional<exemption_status> parse_exemption_status(std::string_view s) noexcept {
  return parse(exemption_status_names, s);
}

std::string_view role_name(role r) noexcept { return name_of(role_names, r); }
std::optional<role> parse_role(std::string_view s) noexcept { return parse(role_names, s); }

}  // namespace pw::ledger
