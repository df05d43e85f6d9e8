// app/desk_cli.hpp — `portwarden desk user ...` and `portwarden port25 export`: the abuse desk's
// command-line side, working on the ledger named by the configuration file (desk.ledger).
//
// `desk user add NAME --role R` reads the password from the first line of standard input (never
// from the command line, where other users could see it in the process list) and stores it as an
// argon2id hash; `--replace` sets a new password and role for an existing user. `desk user list`
// prints name, role and state. `port25 export --format nft|json|csv [-o FILE]` writes the addresses
// allowed to reach remote port 25 (plans open by default, active exemptions; suspended subscribers
// excluded) from the subscriber table and the ledger's exemptions; with -o the file is replaced
// atomically (write + rename) so a router never reads half a set. Warnings (addresses skipped) go to
// standard error.
#pragma once

#include <string>

namespace pw::app {

struct desk_user_options {
  std::string config_path;
  std::string name;
  std::string role = "viewer";
  bool replace = false;
};

int run_desk_user_add(const desk_user_options& o);
int run_desk_user_list(const std::string& config_path);

struct port25_export_options {
  std::string config_path;
  std::string format = "nft";
  std::string output;  // "" = standard output
};

int run_port25_export(const port25_export_options& o);

}  // namespace pw::app
