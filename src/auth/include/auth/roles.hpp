// auth/roles.hpp — whether a desk user's role allows an action.
//
// Purpose: every desk handler states the role an action needs and asks `permits(user's role, needed)`.
// The roles themselves are the ledger's (`pw::ledger::role`, stored with each user); this header adds
// only the rule, so there is one list of roles. Guarantees: roles are ordered viewer < operator_ < admin
// and each includes the rights of the ones before it, so an admin may do everything an operator may.
// Thread-safety: a pure function. Untrusted input: none (roles come from the ledger, already parsed).
#pragma once

#include "ledger/ledger.hpp"

namespace pw::auth {

constexpr bool permits(ledger::role have, ledger::role need) noexcept { return have >= need; }

}  // namespace pw::auth
