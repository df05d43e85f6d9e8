// fuzz/milter_fuzz.cpp — libFuzzer target for the milter session (framing, decoding, protocol
// order, reply discipline, reply encoding).
//
// The first input byte picks a read size; the rest is what an MTA sends. The session is driven to
// the end of the bytes or its first error, answering every event that owes a reply with a verdict
// built from the event itself (header edits carrying the peer's header values, quarantine reasons
// and SMTP texts carrying its body bytes), so hostile bytes reach the encoders too. Checked:
// the same events come out whatever the read size (differential against one whole read); every
// reply is well-framed; no header value, reason or reply text we wrote contains CR, LF or NUL
// before its terminator; the buffer stays bounded by the packet limit.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "milter/milter.hpp"

namespace {

using namespace pw::milter;

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

// Every reply packet: framed, a known reply command, strings free of line breaks.
void check_replies(std::string_view bytes) {
  frame_reader reader;
  reader.feed(bytes);
  for (;;) {
    auto p = reader.next();
    check(p.has_value());
    if (!*p) {
      break;
    }
    const char cmd = (*p)->command;
    const std::string_view payload = (*p)->payload;
    switch (cmd) {
      case 'c':
      case 'a':
      case 't':
      case 'r':
        check(payload.empty());
        break;
      case 'O':
        check(payload.size() >= 12);
        break;
      case 'y':
      case 'q':
      case 'h':
      case 'm':
      case 'i': {
        const std::string_view strings = (cmd == 'm' || cmd == 'i') ? payload.substr(4) : payload;
        check(!strings.empty() && strings.back() == '\0');
        for (const char c : strings.substr(0, strings.size() - 1)) {
          check(c != '\r' && c != '\n');
        }
        const std::size_t nuls = std::count(strings.begin(), strings.end(), '\0');
        check(nuls == ((cmd == 'y' || cmd == 'q') ? 1u : 2u));
        break;
      }
      default:
        check(false);
    }
  }
  check(reader.at_packet_boundary());
}

std::string text_of(const event& ev) {
  if (const auto* h = std::get_if<header>(&ev)) {
    return h->value;
  }
  if (const auto* b = std::get_if<body>(&ev)) {
    return b->chunk.substr(0, 600);
  }
  if (const auto* r = std::get_if<rcpt>(&ev)) {
    return r->args.empty() ? std::string() : r->args[0];
  }
  return "text\r\nwith%breaks";
}

// Runs the session; returns a transcript of event indexes and reply bytes for the differential.
std::string drive(std::string_view input, std::size_t chunk) {
  limits lim;
  lim.max_packet_bytes = 70000;
  session s(negotiation{}, lim);
  std::string transcript;
  std::string out;
  std::string last_text;
  for (std::size_t at = 0; at < input.size(); at += chunk) {
    s.feed(input.substr(at, chunk));
    for (;;) {
      out.clear();
      auto next = s.next(out);
      if (!next) {
        transcript += "E";
        return transcript;
      }
      if (!*next) {
        break;
      }
      const incoming& in = **next;
      transcript.push_back(static_cast<char>('a' + in.what.index()));
      const std::string text = text_of(in.what);
      if (in.needs_reply) {
        const std::size_t pick = text.size() % 4;
        if (std::holds_alternative<end_of_message>(in.what)) {
          eom_reply r;
          r.headers.push_back({header_change::kind::add, 0, "X-Portwarden-Level", last_text});
          r.headers.push_back({header_change::kind::change, static_cast<std::uint32_t>(pick), "X-Test", text});
          if (pick & 1) {
            r.quarantine_reason = last_text;
          }
          if (pick == 2) {
            r.final = verdict{verdict::kind::tempfail, smtp_reply{451, "4.7.1", text}};
          }
          // Refused only when the MTA's offer lacked an action; then the buffer is untouched and a
          // plain continue must go through.
          const std::size_t before = out.size();
          if (!s.answer_eom(r, out)) {
            check(out.size() == before);
            check(s.answer_eom(eom_reply{}, out).has_value());
          }
        } else {
          verdict v;
          if (pick == 1) {
            v = verdict{verdict::kind::tempfail, smtp_reply{450, "4.7.1", text}};
          } else if (pick == 2) {
            v.what = verdict::kind::reject;
          }
          check(s.answer(v, out).has_value());
          check(!s.answer(v, out).has_value());  // exactly one reply
        }
      } else {
        check(!s.answer(verdict{}, out).has_value());
      }
      check_replies(out);
      transcript += out;
      if (!text.empty()) {
        last_text = text;
      }
    }
  }
  transcript += s.finish().has_value() ? "F" : "T";
  return transcript;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) {
    return 0;
  }
  const std::size_t chunk = 1 + data[0] % 97;
  const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  check(drive(input, chunk) == drive(input, input.size() + 1));
  return 0;
}
