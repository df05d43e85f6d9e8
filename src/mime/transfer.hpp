// mime/transfer.hpp — private: Content-Transfer-Encoding decoders.
//
// Purpose: base64 and quoted-printable to bytes, tolerant the way mail clients are: base64 skips
// whitespace silently and any other non-alphabet byte with anomaly::invalid_base64; quoted-printable
// keeps a malformed '=' literally with anomaly::invalid_quoted_printable. Both append to the caller's
// buffer (so a part can be decoded straight into a reused buffer) and run in one linear pass.
//
// Thread-safety: pure functions. Untrusted input: yes.
#pragma once

#include <string>
#include <string_view>

#include "mime/message.hpp"

namespace pw::mime::detail {

void append_base64_decoded(std::string_view in, std::string& out, anomaly& found);
void append_qp_decoded(std::string_view in, std::string& out, anomaly& found);

// The value of one hex digit, or -1.
int hex_value(char c);

}  // namespace pw::mime::detail
