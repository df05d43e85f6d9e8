// Internal to pw_milter: readable names of commands for error messages.
#pragma once

#include <string>

namespace pw::milter {

// "RCPT", "END_OF_MESSAGE", ..., or "command 0x7a" for bytes that are no command.
std::string command_name(char c);

}  // namespace pw::milter
