// bench/codec_bench.cpp — cost of the milter and policy codecs per message.
//
// BM_milter_connection: one Postfix-like milter connection carrying one 4 KiB message (macros as
// Postfix 3.7 sends them after our negotiation, 8 headers, 2 recipients, body in one chunk), fed in
// 1500-byte reads, every owed reply answered, EOM answered with a header and continue.
// BM_policy_request: one 29-attribute RCPT request as Postfix 3.7 sends it, read and answered DUNNO.
// items_per_second = messages (milter) or requests (policy).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <variant>

#include "milter/milter.hpp"
#include "policy/policy.hpp"

namespace {

using namespace pw;

std::string u32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

void add(std::string& s, char cmd, const std::string& payload) { milter::append_packet(s, cmd, payload); }

std::string z(const std::string& s) { return s + std::string(1, '\0'); }

std::string milter_stream() {
  std::string s;
  add(s, 'O', u32(6) + u32(0x1ff) + u32(0x1fffff));
  add(s, 'D',
      "C" + z("j") + z("pf-test.localdomain") + z("{daemon_name}") + z("pf-test.localdomain") + z("{daemon_addr}") +
          z("127.0.0.1") + z("{client_addr}") + z("127.0.0.1") + z("{client_name}") + z("unknown") +
          z("{client_port}") + z("43332"));
  add(s, 'C', z("[127.0.0.1]") + "4" + std::string("\xa9\x44", 2) + z("127.0.0.1"));
  add(s, 'D', "H");
  add(s, 'H', z("client.example"));
  add(s, 'D', "M");
  add(s, 'M', z("<src@example.org>") + z("SIZE=4500"));
  add(s, 'D', "R");
  add(s, 'R', z("<dst@example.net>"));
  add(s, 'D', "R" + z("i") + z("A94BEA7C3F5"));
  add(s, 'R', z("<dst2@example.net>"));
  add(s, 'D', "T" + z("i") + z("A94BEA7C3F5"));
  for (int h = 0; h < 8; ++h) {
    add(s, 'D', "L" + z("i") + z("A94BEA7C3F5"));
    add(s, 'L', z("X-Header-" + std::to_string(h)) + z("value of header number " + std::to_string(h)));
  }
  add(s, 'D', "N" + z("i") + z("A94BEA7C3F5"));
  add(s, 'N', "");
  add(s, 'D', "B" + z("i") + z("A94BEA7C3F5"));
  std::string body;
  while (body.size() < 4096) {
    body += "0123456789 abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ\r\n";
  }
  add(s, 'B', body);
  add(s, 'D', "E" + z("i") + z("A94BEA7C3F5"));
  add(s, 'E', "");
  add(s, 'A', "");
  add(s, 'A', "");
  add(s, 'Q', "");
  return s;
}

void BM_milter_connection(benchmark::State& state) {
  const std::string stream = milter_stream();
  std::string out;
  milter::eom_reply eom;
  eom.headers.push_back({milter::header_change::kind::add, 0, "X-Portwarden-Level", "normal"});
  for (auto _ : state) {
    milter::session s;
    std::size_t events = 0;
    for (std::size_t at = 0; at < stream.size(); at += 1500) {
      s.feed(std::string_view(stream).substr(at, 1500));
      for (;;) {
        out.clear();
        auto next = s.next(out);
        if (!next || !*next) {
          break;
        }
        ++events;
        if ((*next)->needs_reply) {
          if (std::holds_alternative<milter::end_of_message>((*next)->what)) {
            benchmark::DoNotOptimize(s.macro_value("i"));
            (void)s.answer_eom(eom, out);
          } else {
            (void)s.answer({}, out);
          }
        }
        benchmark::DoNotOptimize(out.data());
      }
    }
    benchmark::DoNotOptimize(events);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(stream.size()));
}
BENCHMARK(BM_milter_connection);

void BM_policy_request(benchmark::State& state) {
  const std::string request =
      "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\nclient_address=127.0.0.1\n"
      "client_name=unknown\nclient_port=43332\nreverse_client_name=unknown\nserver_address=127.0.0.1\n"
      "server_port=10025\nhelo_name=client.example\nsender=sender@example.org\nrecipient=user@example.net\n"
      "recipient_count=0\nqueue_id=\ninstance=47df.6b091729.6ad7b.0\nsize=0\netrn_domain=\nstress=\n"
      "sasl_method=\nsasl_username=\nsasl_sender=\nccert_subject=\nccert_issuer=\nccert_fingerprint=\n"
      "ccert_pubkey_fingerprint=\nencryption_protocol=\nencryption_cipher=\nencryption_keysize=0\n"
      "policy_context=\n\n";
  policy::request_reader reader;
  std::string out;
  for (auto _ : state) {
    reader.feed(request);
    auto r = reader.next();
    out.clear();
    policy::append_dunno(out);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_policy_request);

}  // namespace

BENCHMARK_MAIN();
