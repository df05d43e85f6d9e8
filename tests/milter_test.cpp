// Tests for src/milter: framing, decoding, reply encoding, negotiation, the session's reply
// discipline, and the golden transcripts in tests/data/milter/ (*.in -> *.ref).
//
// Transcript format (.in), one item per line:
//   # comment
//   X payload        a packet from the MTA: command byte X, then the escaped payload (length added)
//   = bytes          raw escaped bytes appended to the stream as they are (bad lengths, truncation)
//   ! answer         the next answer the test gives where a reply is owed (default: continue)
// Escapes: \0 \n \r \t \\ \xHH, \U{n} a big-endian u32, \S{n} a big-endian u16.
// Answers: `continue`, `accept`, `tempfail`, `reject`, optionally followed by `CODE X.Y.Z text`
// (events before END_OF_MESSAGE skip a waiting `eom` answer and get `continue`);
// for END_OF_MESSAGE `eom | item | ... | verdict` with items `add Name: value`,
// `change N Name: value`, `insert N Name: value`, `quarantine reason`.
// Every transcript is replayed fed in chunks of 1, 2, 5, 64 bytes and all at once; the outputs must
// agree with each other and with the .ref file. PW_UPDATE_GOLDEN=1 rewrites the .ref files.
#include "milter/milter.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace pw::milter {
namespace {

std::string u32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string frame(char cmd, std::string_view payload) {
  std::string out;
  append_packet(out, cmd, payload);
  return out;
}

std::string optneg_offer() { return frame('O', u32(6) + u32(0x1ff) + u32(0x1fffff)); }

// ---- transcript language ----------------------------------------------------------------------

std::string unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out.push_back(s[i]);
      continue;
    }
    const char e = s[++i];
    switch (e) {
      case '0':
        out.push_back('\0');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case 'x':
        out.push_back(static_cast<char>(std::stoul(std::string(s.substr(i + 1, 2)), nullptr, 16)));
        i += 2;
        break;
      case 'U':
      case 'S': {
        const std::size_t close = s.find('}', i);
        const auto n = std::stoul(std::string(s.substr(i + 2, close - i - 2)), nullptr, 0);
        if (e == 'U') {
          out += u32(static_cast<std::uint32_t>(n));
        } else {
          out.push_back(static_cast<char>(n >> 8));
          out.push_back(static_cast<char>(n));
        }
        i = close;
        break;
      }
      default:
        out.push_back(e);
        break;
    }
  }
  return out;
}

std::string escape(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (const char c : s) {
    const auto b = static_cast<unsigned char>(c);
    switch (c) {
      case '\0':
        out += "\\0";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        if (b < 32 || b >= 127) {
          out += "\\x";
          out.push_back(hex[b >> 4]);
          out.push_back(hex[b & 15]);
        } else {
          out.push_back(c);
        }
    }
  }
  return out;
}

std::string hex32(std::uint32_t v) {
  std::ostringstream o;
  o << "0x" << std::hex << v;
  return o.str();
}

std::string describe(const event& ev) {
  struct visitor {
    std::string operator()(const optneg& o) const {
      return "OPTNEG version=" + std::to_string(o.version) + " actions=" + hex32(o.actions) +
             " protocol=" + hex32(o.protocol);
    }
    std::string operator()(const macros& m) const {
      std::string s = "MACRO for ";
      s.push_back(m.stage);
      for (const auto& v : m.values) {
        s += " " + escape(v.name) + "=" + escape(v.value);
      }
      return s;
    }
    std::string operator()(const connect& c) const {
      return "CONNECT host=" + escape(c.hostname) + " family=" + std::string(1, static_cast<char>(c.family)) +
             " port=" + std::to_string(c.port) + " address=" + escape(c.address);
    }
    std::string operator()(const helo& h) const { return "HELO " + escape(h.name); }
    std::string args(const char* name, const std::vector<std::string>& a) const {
      std::string s = name;
      for (const auto& x : a) {
        s += " [" + escape(x) + "]";
      }
      return s;
    }
    std::string operator()(const mail& m) const { return args("MAIL", m.args); }
    std::string operator()(const rcpt& r) const { return args("RCPT", r.args); }
    std::string operator()(const header& h) const { return "HEADER " + escape(h.name) + ": " + escape(h.value); }
    std::string operator()(const end_of_headers&) const { return "EOH"; }
    std::string operator()(const body& b) const {
      return "BODY " + std::to_string(b.chunk.size()) + " bytes: " + escape(b.chunk);
    }
    std::string operator()(const end_of_message&) const { return "END_OF_MESSAGE"; }
    std::string operator()(const abort_message&) const { return "ABORT"; }
    std::string operator()(const quit&) const { return "QUIT"; }
    std::string operator()(const quit_new_connection&) const { return "QUIT_NC"; }
    std::string operator()(const data_command&) const { return "DATA"; }
    std::string operator()(const unknown_command& u) const { return "UNKNOWN " + escape(u.line); }
  };
  return std::visit(visitor{}, ev);
}

// Our reply bytes, split back into packets and shown readably.
std::string describe_replies(std::string_view bytes) {
  std::string out;
  frame_reader reader;
  reader.feed(bytes);
  for (;;) {
    auto p = reader.next();
    if (!p || !*p) {
      break;
    }
    std::string payload((*p)->payload);
    if ((*p)->command == 'O' && payload.size() >= 12) {
      out += "< O version=" + std::to_string(static_cast<unsigned char>(payload[3])) + " actions=" +
             hex32((static_cast<std::uint32_t>(static_cast<unsigned char>(payload[6])) << 8) |
                   static_cast<unsigned char>(payload[7])) +
             " protocol=" +
             hex32((static_cast<std::uint32_t>(static_cast<unsigned char>(payload[9])) << 16) |
                   (static_cast<std::uint32_t>(static_cast<unsigned char>(payload[10])) << 8) |
                   static_cast<unsigned char>(payload[11]));
      std::string_view rest = std::string_view(payload).substr(12);
      while (rest.size() >= 5) {
        const auto stage = static_cast<unsigned>(static_cast<unsigned char>(rest[3]));
        rest.remove_prefix(4);
        const auto nul = rest.find('\0');
        out += " macros[" + std::to_string(stage) + "]=\"" + escape(rest.substr(0, nul)) + "\"";
        rest.remove_prefix(nul == std::string_view::npos ? rest.size() : nul + 1);
      }
      out += "\n";
      continue;
    }
    out += "< ";
    out.push_back((*p)->command);
    if (!payload.empty()) {
      out += " " + escape(payload);
    }
    out += "\n";
  }
  if (!reader.at_packet_boundary()) {
    out += "< (incomplete reply packet)\n";
  }
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') {
    s.remove_prefix(1);
  }
  while (!s.empty() && s.back() == ' ') {
    s.remove_suffix(1);
  }
  return std::string(s);
}

verdict parse_verdict(std::string_view text) {
  verdict v;
  const std::string t = trim(text);
  const std::size_t sp = t.find(' ');
  const std::string word = t.substr(0, sp);
  if (word == "accept") {
    v.what = verdict::kind::accept;
  } else if (word == "tempfail") {
    v.what = verdict::kind::tempfail;
  } else if (word == "reject") {
    v.what = verdict::kind::reject;
  }
  if (sp != std::string::npos) {
    std::istringstream in(t.substr(sp + 1));
    smtp_reply r;
    in >> r.code >> r.enhanced_status;
    std::getline(in, r.text);
    r.text = unescape(trim(r.text));
    v.reply = r;
  }
  return v;
}

eom_reply parse_eom(std::string_view text) {
  eom_reply reply;
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t bar = text.find('|', start);
    items.push_back(trim(text.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start)));
    if (bar == std::string_view::npos) {
      break;
    }
    start = bar + 1;
  }
  // items[0] is "eom", the last is the verdict
  for (std::size_t i = 1; i + 1 < items.size(); ++i) {
    const std::string& item = items[i];
    const std::size_t sp = item.find(' ');
    const std::string word = item.substr(0, sp);
    std::string rest = sp == std::string::npos ? "" : item.substr(sp + 1);
    if (word == "quarantine") {
      reply.quarantine_reason = unescape(rest);
      continue;
    }
    header_change c;
    if (word == "change" || word == "insert") {
      c.what = word == "change" ? header_change::kind::change : header_change::kind::insert;
      const std::size_t sp2 = rest.find(' ');
      c.index = static_cast<std::uint32_t>(std::stoul(rest.substr(0, sp2)));
      rest = rest.substr(sp2 + 1);
    }
    const std::size_t colon = rest.find(':');
    c.name = unescape(rest.substr(0, colon));
    c.value = colon == std::string::npos ? "" : unescape(trim(rest.substr(colon + 1)));
    reply.headers.push_back(std::move(c));
  }
  reply.final = parse_verdict(items.size() > 1 ? items.back() : "continue");
  return reply;
}

struct transcript {
  std::string stream;
  std::vector<std::string> answers;
};

transcript parse_transcript(const std::string& text) {
  transcript t;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    if (line[0] == '!') {
      t.answers.push_back(trim(line.substr(1)));
    } else if (line[0] == '=') {
      t.stream += unescape(line.size() > 2 ? std::string_view(line).substr(2) : std::string_view{});
    } else {
      t.stream += frame(line[0], unescape(line.size() > 2 ? std::string_view(line).substr(2) : std::string_view{}));
    }
  }
  return t;
}

std::string run(const transcript& t, std::size_t chunk) {
  session s;
  std::deque<std::string> answers(t.answers.begin(), t.answers.end());
  std::string log;
  std::string out;
  bool failed = false;
  for (std::size_t at = 0; at < t.stream.size() && !failed; at += chunk) {
    s.feed(std::string_view(t.stream).substr(at, chunk));
    for (;;) {
      out.clear();
      auto next = s.next(out);
      if (!next) {
        log += "error: " + next.error().message + "\n";
        failed = true;
        break;
      }
      if (!*next) {
        break;
      }
      const incoming& in = **next;
      log += "> " + describe(in.what) + (in.needs_reply ? "  [reply owed]" : "") + "\n";
      log += describe_replies(out);
      if (std::holds_alternative<optneg>(in.what)) {
        log += "  agreed actions=" + hex32(s.agreed().actions) + " protocol=" + hex32(s.agreed().protocol) + "\n";
      }
      if (!in.needs_reply) {
        continue;
      }
      out.clear();
      // An `eom ...` answer waits for END_OF_MESSAGE; earlier events get the default.
      const bool at_eom = std::holds_alternative<end_of_message>(in.what);
      std::string answer = "continue";
      if (!answers.empty() && (at_eom || answers.front().rfind("eom", 0) != 0)) {
        answer = answers.front();
        answers.pop_front();
      }
      result<void> r;
      if (std::holds_alternative<end_of_message>(in.what)) {
        for (const char* name : {"i", "{auth_authen}", "{client_addr}", "j"}) {
          const auto v = s.macro_value(name);
          log += std::string("  macro ") + name + "=" + (v ? escape(*v) : "(absent)") + "\n";
        }
        r = s.answer_eom(answer.rfind("eom", 0) == 0 ? parse_eom(answer) : eom_reply{{}, {}, parse_verdict(answer)},
                         out);
      } else {
        r = s.answer(parse_verdict(answer), out);
      }
      if (!r) {
        log += "answer refused: " + r.error().message + "\n";
        out.clear();
        r = std::holds_alternative<end_of_message>(in.what) ? s.answer_eom({}, out) : s.answer({}, out);
      }
      log += describe_replies(out);
    }
  }
  if (!failed) {
    const auto end = s.finish();
    log += end ? "end of stream: clean, " + std::to_string(s.messages_completed()) + " messages\n"
               : "end of stream: " + end.error().message + "\n";
  }
  return log;
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(MilterGolden, TranscriptsMatchReferenceAtEveryChunking) {
  const std::filesystem::path dir = std::filesystem::path(PW_TEST_DATA_DIR) / "milter";
  const bool update = std::getenv("PW_UPDATE_GOLDEN") != nullptr;
  std::size_t count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".in") {
      continue;
    }
    ++count;
    SCOPED_TRACE(entry.path().filename().string());
    const transcript t = parse_transcript(read_file(entry.path()));
    const std::string whole = run(t, t.stream.size() + 1);
    for (const std::size_t chunk : {1, 2, 5, 64}) {
      EXPECT_EQ(run(t, chunk), whole) << "fed in chunks of " << chunk;
    }
    auto ref_path = entry.path();
    ref_path.replace_extension(".ref");
    if (update) {
      std::ofstream(ref_path, std::ios::binary) << whole;
    }
    EXPECT_EQ(whole, read_file(ref_path));
  }
  EXPECT_GE(count, 7u);
}

// ---- framing ----------------------------------------------------------------------------------

TEST(MilterFraming, PacketsSplitAndJoinedAcrossReads) {
  frame_reader r;
  const std::string bytes = frame('H', std::string("client.example\0", 15)) + frame('A', "");
  r.feed(std::string_view(bytes).substr(0, 3));
  auto p = r.next();
  ASSERT_TRUE(p);
  EXPECT_FALSE(*p);
  r.feed(std::string_view(bytes).substr(3));
  p = r.next();
  ASSERT_TRUE(p && *p);
  EXPECT_EQ((*p)->command, 'H');
  EXPECT_EQ((*p)->payload, std::string_view("client.example\0", 15));
  p = r.next();
  ASSERT_TRUE(p && *p);
  EXPECT_EQ((*p)->command, 'A');
  EXPECT_TRUE((*p)->payload.empty());
  EXPECT_TRUE(r.at_packet_boundary());
}

TEST(MilterFraming, ZeroAndOversizedLengthsFailBeforeAllocating) {
  frame_reader zero;
  zero.feed(u32(0));
  EXPECT_FALSE(zero.next());
  EXPECT_FALSE(zero.next()) << "a failed reader stays failed";

  frame_reader big(1000);
  big.feed(u32(1001) + "B");
  auto p = big.next();
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("1001"), std::string::npos);
  EXPECT_LT(big.buffered_bytes(), 10u);

  frame_reader exact(1000);
  exact.feed(u32(1000) + "B" + std::string(999, 'x'));
  auto q = exact.next();
  ASSERT_TRUE(q && *q);
  EXPECT_EQ((*q)->payload.size(), 999u);
}

TEST(MilterFraming, TruncatedPacketIsNotAtBoundary) {
  frame_reader r;
  r.feed(u32(10) + "Babc");
  auto p = r.next();
  ASSERT_TRUE(p);
  EXPECT_FALSE(*p);
  EXPECT_FALSE(r.at_packet_boundary());
}

// ---- decoding ---------------------------------------------------------------------------------

TEST(MilterDecode, ConnectInet6AndUnknownFamily) {
  const std::string six = std::string("mx.example\0", 11) + "6" + std::string("\x01\xbb", 2) + std::string("::1\0", 4);
  auto e = decode(packet{'C', six});
  ASSERT_TRUE(e);
  const auto& c = std::get<connect>(*e);
  EXPECT_EQ(c.family, address_family::inet6);
  EXPECT_EQ(c.port, 443);
  EXPECT_EQ(c.address, "::1");

  auto u = decode(packet{'C', std::string("host\0U", 6)});
  ASSERT_TRUE(u);
  EXPECT_EQ(std::get<connect>(*u).family, address_family::unknown);
}

TEST(MilterDecode, MalformedPayloadsAreErrorsWithTheCommandNamed) {
  struct bad {
    char cmd;
    std::string payload;
    const char* expect;
  };
  const std::vector<bad> cases = {
      {'O', u32(6) + u32(0x1ff), "OPTNEG"},
      {'C', "host-without-nul", "CONNECT: hostname"},
      {'C', std::string("host\0", 5), "no address family"},
      {'C',
       std::string("host\0"
                   "4\x00",
                   7),
       "port truncated"},
      {'C',
       std::string("host\0"
                   "9\x00\x19"
                   "1.2.3.4\0",
                   14),
       "address family"},
      {'H', std::string("a\0b", 3), "HELO"},
      {'M', "", "MAIL: no address"},
      {'R', std::string("<a@b>\0SIZE", 10), "RCPT: ESMTP argument"},
      {'L', std::string("Subject\0value", 13), "header value"},
      {'D', "", "no stage byte"},
      {'D', std::string("Mi\0", 3), "name without value"},
      {'D', std::string("Zi\0x\0", 5), "unknown stage"},
      {'N', "x", "EOH"},
      {'z', "", "unknown command 0x7a"},
  };
  for (const auto& c : cases) {
    auto e = decode(packet{c.cmd, c.payload});
    ASSERT_FALSE(e) << c.expect;
    EXPECT_NE(e.error().message.find(c.expect), std::string::npos) << e.error().message;
  }
}

// ---- encoding ---------------------------------------------------------------------------------

TEST(MilterEncode, HeaderValuesAndReplyTextCannotInjectLines) {
  std::string out;
  ASSERT_TRUE(
      append_header_change(out, {header_change::kind::add, 0, "X-Portwarden", std::string("a\r\nBcc: x@y\0z", 13)}));
  EXPECT_EQ(out, frame('h', std::string("X-Portwarden\0a  Bcc: x@y z\0", 27)));

  EXPECT_FALSE(append_header_change(out, {header_change::kind::add, 0, "X-Bad: name", "v"}));
  EXPECT_FALSE(append_header_change(out, {header_change::kind::add, 0, "", "v"}));

  out.clear();
  ASSERT_TRUE(append_reply_code(out, {451, "4.7.1", "100% sure\r\n250 ok"}));
  EXPECT_EQ(out, frame('y', std::string("451 4.7.1 100%% sure  250 ok\0", 29)));
}

TEST(MilterEncode, ReplyCodesMustBeConsistent) {
  std::string out;
  EXPECT_FALSE(append_reply_code(out, {250, "2.0.0", "ok"}));
  EXPECT_FALSE(append_reply_code(out, {451, "5.7.1", "mismatch"}));
  EXPECT_FALSE(append_reply_code(out, {451, "4.7", "short"}));
  EXPECT_FALSE(append_verdict(out, {verdict::kind::tempfail, smtp_reply{550, "5.7.1", "x"}}));
  EXPECT_FALSE(append_verdict(out, {verdict::kind::proceed, smtp_reply{451, "4.7.1", "x"}}));
  EXPECT_TRUE(out.empty());
  ASSERT_TRUE(append_verdict(out, {verdict::kind::reject, smtp_reply{550, "5.7.1", "no"}}));
  EXPECT_EQ(out, frame('y', std::string("550 5.7.1 no\0", 13)));
}

TEST(MilterEncode, LongHeaderValueCutOnCharacterBoundary) {
  std::string value;
  for (int i = 0; i < 600; ++i) {
    value += "\xc3\xa9";  // é, two bytes
  }
  const std::string s = sanitise_header_value(value, 997);
  EXPECT_EQ(s.size(), 996u);
  EXPECT_EQ(static_cast<unsigned char>(s.back()), 0xa9);
}

TEST(MilterEncode, OptnegAsksOnlyForWhatIsNeeded) {
  std::string out;
  auto agreed = append_optneg_reply(out, optneg{6, 0x1ff, 0x1fffff}, negotiation{});
  ASSERT_TRUE(agreed);
  EXPECT_EQ(agreed->version, 6u);
  EXPECT_EQ(agreed->actions, action_flag::add_headers | action_flag::change_headers | action_flag::quarantine |
                                 action_flag::set_macro_lists);
  namespace pf = protocol_flag;
  const std::uint32_t p = agreed->protocol;
  // Not sent: DATA, UNKNOWN. No reply: CONNECT, HELO, headers, EOH, body. Replies: MAIL, RCPT, EOM.
  EXPECT_TRUE(p & pf::no_data);
  EXPECT_TRUE(p & pf::no_unknown);
  for (const auto nr : {pf::no_reply_connect, pf::no_reply_helo, pf::no_reply_header, pf::no_reply_end_of_headers,
                        pf::no_reply_body, pf::no_reply_data, pf::no_reply_unknown}) {
    EXPECT_TRUE(p & nr) << nr;
  }
  EXPECT_FALSE(p & pf::no_reply_mail);
  EXPECT_FALSE(p & pf::no_reply_rcpt);
  EXPECT_FALSE(p & (pf::no_connect | pf::no_helo | pf::no_mail | pf::no_rcpt | pf::no_headers | pf::no_body));

  // An MTA that offers less gets no more than it offered.
  out.clear();
  auto small = append_optneg_reply(out, optneg{6, action_flag::add_headers, pf::no_data}, negotiation{});
  ASSERT_TRUE(small);
  EXPECT_EQ(small->actions, action_flag::add_headers);
  EXPECT_EQ(small->protocol, pf::no_data);

  out.clear();
  EXPECT_FALSE(append_optneg_reply(out, optneg{2, 0x3f, 0x7f}, negotiation{}));
}

// ---- session ----------------------------------------------------------------------------------

TEST(MilterSession, RefusesNextEventWhileReplyOwedAndRepliesWhenNoneOwed) {
  session s;
  std::string out;
  s.feed(optneg_offer() + frame('M', std::string("<a@b>\0", 6)) + frame('R', std::string("<c@d>\0", 6)));
  ASSERT_TRUE(s.next(out));
  EXPECT_FALSE(s.answer({}, out)) << "nothing owed after OPTNEG";
  auto mail_event = s.next(out);
  ASSERT_TRUE(mail_event && *mail_event);
  EXPECT_TRUE((*mail_event)->needs_reply);
  EXPECT_FALSE(s.next(out)) << "MAIL not answered yet";
  out.clear();
  ASSERT_TRUE(s.answer({}, out));
  EXPECT_EQ(out, frame('c', ""));
  EXPECT_FALSE(s.answer({}, out));
}

TEST(MilterSession, EomRefusesUnnegotiatedQuarantineAndLeavesBufferUntouched) {
  negotiation n;
  n.actions = action_flag::add_headers;
  session s(n);
  std::string out;
  s.feed(optneg_offer() + frame('D', std::string("Mi\0Q1\0", 6)) + frame('M', std::string("<a@b>\0", 6)));
  ASSERT_TRUE(s.next(out));  // OPTNEG
  ASSERT_TRUE(s.next(out));  // macros
  ASSERT_TRUE(s.next(out));  // MAIL
  ASSERT_TRUE(s.answer({}, out));
  s.feed(frame('E', ""));
  auto eom = s.next(out);
  ASSERT_TRUE(eom && *eom && (*eom)->needs_reply);
  EXPECT_EQ(s.macro_value("i"), "Q1");
  out = "kept";
  eom_reply r;
  r.headers.push_back({header_change::kind::add, 0, "X-Portwarden-Level", "hold"});
  r.quarantine_reason = "burst";
  EXPECT_FALSE(s.answer_eom(r, out));
  EXPECT_EQ(out, "kept");
  r.quarantine_reason.reset();
  ASSERT_TRUE(s.answer_eom(r, out));
  EXPECT_EQ(out, "kept" + frame('h', std::string("X-Portwarden-Level\0hold\0", 24)) + frame('c', ""));
  EXPECT_EQ(s.messages_completed(), 1u);
}

TEST(MilterSession, RcptOutsideMessageAndBytesAfterQuitAreErrors) {
  {
    session s;
    std::string out;
    s.feed(optneg_offer() + frame('R', std::string("<c@d>\0", 6)));
    ASSERT_TRUE(s.next(out));
    auto e = s.next(out);
    ASSERT_FALSE(e);
    EXPECT_NE(e.error().message.find("RCPT outside a message"), std::string::npos);
  }
  {
    session s;
    std::string out;
    s.feed(optneg_offer() + frame('Q', "") + "junk");
    ASSERT_TRUE(s.next(out));
    auto q = s.next(out);
    ASSERT_TRUE(q && *q);
    EXPECT_TRUE(s.finished());
    EXPECT_FALSE(s.next(out));
  }
}

}  // namespace
}  // namespace pw::milter
