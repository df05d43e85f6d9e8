#include "config/config.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>
#include <utility>

namespace pw::config {
namespace {

// ---------------------------------------------------------------------------------------------
// Diagnostics

struct position {
  std::uint32_t line = 0;  // 0: the problem has no place in the file (e.g. a value left at default)
  std::uint32_t column = 0;
};

position position_of(const toml::source_region& r) { return {r.begin.line, r.begin.column}; }

// Keys and values are quoted back to the operator; a hostile or damaged file must not be able to
// flood the terminal or send escape sequences through them.
std::string quote_text(std::string_view text) {
  constexpr std::size_t max_quoted = 60;
  std::string out = "'";
  std::size_t n = std::min(text.size(), max_quoted);
  // Cut on a UTF-8 character boundary.
  while (n < text.size() && n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) {
    --n;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : static_cast<char>(c));
  }
  if (n < text.size()) {
    out.append("...");
  }
  out.push_back('\'');
  return out;
}

class diagnostics {
 public:
  void error(position p, std::string text) { _items.push_back({p, false, std::move(text), _items.size()}); }
  void warning(position p, std::string text) { _items.push_back({p, true, std::move(text), _items.size()}); }
  [[nodiscard]] bool has_errors() const {
    return std::any_of(_items.begin(), _items.end(), [](const item& i) { return !i.is_warning; });
  }

  // Errors (or warnings) as `origin:line:column: text`, in file order, capped at max_reported_errors.
  std::vector<std::string> render(std::string_view origin, bool warnings) const {
    std::vector<const item*> chosen;
    for (const auto& i : _items) {
      if (i.is_warning == warnings) {
        chosen.push_back(&i);
      }
    }
    std::sort(chosen.begin(), chosen.end(), [](const item* a, const item* b) {
      return std::tie(a->where.line, a->where.column, a->order) < std::tie(b->where.line, b->where.column, b->order);
    });
    std::vector<std::string> out;
    for (const item* i : chosen) {
      if (out.size() == max_reported_errors) {
        out.push_back(std::string(origin) + ": " + std::to_string(chosen.size() - max_reported_errors) +
                      " more not shown");
        break;
      }
      std::string line(origin);
      if (i->where.line != 0) {
        line += ":" + std::to_string(i->where.line) + ":" + std::to_string(i->where.column);
      }
      line += warnings ? ": warning: " : ": ";
      line += i->text;
      out.push_back(std::move(line));
    }
    return out;
  }

 private:
  struct item {
    position where;
    bool is_warning;
    std::string text;
    std::size_t order;
  };
  std::vector<item> _items;
};

// What reading one file needs besides the settings being filled.
struct read_context {
  diagnostics& diag;
  const std::string& base_dir;
  std::map<std::string, position> places;                       // where each key that was present starts (dotted name)
  std::map<std::string, std::vector<position>> element_places;  // [[array]] element tables, in order
};

std::string_view type_phrase(toml::node_type t) {
  switch (t) {
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    case toml::node_type::none:
      break;
  }
  return "nothing";
}

void wrong_type(read_context& ctx, const toml::node& n, const std::string& name, std::string_view expected) {
  ctx.diag.error(position_of(n.source()),
                 name + ": expected " + std::string(expected) + ", found " + std::string(type_phrase(n.type())));
}

// ---------------------------------------------------------------------------------------------
// TOML text for values (defaults in the docs, to_toml)

std::string toml_string(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out.append(buf);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
  return out;
}

std::string toml_number(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  std::string out(buf, ec == std::errc{} ? end : buf);
  if (out.find_first_of(".en") == std::string::npos) {
    out += ".0";  // a TOML float needs a fraction or exponent
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Codecs: how one type of value reads from TOML, shows as TOML, and is named in the docs.

struct bool_codec {
  std::string type() const { return "boolean"; }
  std::optional<bool> read(const toml::node& n, const std::string& name, read_context& ctx) const {
    if (const auto* v = n.as_boolean()) {
      return v->get();
    }
    wrong_type(ctx, n, name, "true or false");
    return std::nullopt;
  }
  std::string show(bool v) const { return v ? "true" : "false"; }
};

template <class T>
struct integer_codec {
  std::int64_t min;
  std::int64_t max;
  std::string type() const { return "integer, " + std::to_string(min) + " to " + std::to_string(max); }
  std::optional<T> read(const toml::node& n, const std::string& name, read_context& ctx) const {
    const auto* v = n.as_integer();
    if (v == nullptr) {
      wrong_type(ctx, n, name, "an integer");
      return std::nullopt;
    }
    if (v->get() < min || v->get() > max) {
      ctx.diag.error(position_of(n.source()), name + ": " + std::to_string(v->get()) + " is out of range (" +
                                                  std::to_string(min) + " to " + std::to_string(max) + ")");
      return std::nullopt;
    }
    return static_cast<T>(v->get());
  }
  std::string show(T v) const { return std::to_string(v); }
};

struct real_codec {
  double min;
  double max;
  std::string type() const { return "number, " + toml_number(min) + " to " + toml_number(max); }
  std::optional<double> read(const toml::node& n, const std::string& name, read_context& ctx) const {
    if (!n.is_number()) {
      wrong_type(ctx, n, name, "a number");
      return std::nullopt;
    }
    const double v = n.value<double>().value_or(0.0);
    if (!std::isfinite(v) || v < min || v > max) {
      ctx.diag.error(position_of(n.source()), name + ": " + toml_number(v) + " is out of range (" + toml_number(min) +
                                                  " to " + toml_number(max) + ")");
      return std::nullopt;
    }
    return v;
  }
  std::string show(double v) const { return toml_number(v); }
};

// Strings end up in C APIs (user names, paths) and in logs: no control characters, bounded length.
constexpr std::size_t max_string_bytes = 4096;

std::optional<std::string> read_plain_string(const toml::node& n, const std::string& name, read_context& ctx,
                                             bool non_empty) {
  const auto* v = n.as_string();
  if (v == nullptr) {
    wrong_type(ctx, n, name, "a string");
    return std::nullopt;
  }
  const std::string& s = v->get();
  if (s.size() > max_string_bytes) {
    ctx.diag.error(position_of(n.source()), name + ": longer than " + std::to_string(max_string_bytes) + " bytes");
    return std::nullopt;
  }
  if (std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    ctx.diag.error(position_of(n.source()), name + ": contains a control character");
    return std::nullopt;
  }
  if (non_empty && s.empty()) {
    ctx.diag.error(position_of(n.source()), name + ": must not be empty");
    return std::nullopt;
  }
  return s;
}

struct string_codec {
  bool non_empty = false;
  std::string type() const { return non_empty ? "string, not empty" : "string"; }
  std::optional<std::string> read(const toml::node& n, const std::string& name, read_context& ctx) const {
    return read_plain_string(n, name, ctx, non_empty);
  }
  std::string show(const std::string& v) const { return toml_string(v); }
};

// A command line as an array of strings (no shell: each element is one argument).
struct string_list_codec {
  std::string type() const { return "array of strings, not empty"; }
  std::optional<std::vector<std::string>> read(const toml::node& n, const std::string& name, read_context& ctx) const {
    const auto* a = n.as_array();
    if (a == nullptr) {
      wrong_type(ctx, n, name, "an array of strings such as [\"postsuper\", \"-H\", \"-\"]");
      return std::nullopt;
    }
    if (a->empty() || a->size() > 64) {
      ctx.diag.error(position_of(n.source()), name + ": give 1 to 64 strings");
      return std::nullopt;
    }
    std::vector<std::string> out;
    for (std::size_t i = 0; i < a->size(); ++i) {
      auto v = read_plain_string(*a->get(i), name + "[" + std::to_string(i + 1) + "]", ctx, true);
      if (!v) {
        return std::nullopt;
      }
      out.push_back(std::move(*v));
    }
    return out;
  }
  std::string show(const std::vector<std::string>& v) const {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      out += (i == 0 ? "" : ", ") + toml_string(v[i]);
    }
    return out + "]";
  }
};

struct path_codec {
  std::string type() const { return "path"; }
  std::optional<std::string> read(const toml::node& n, const std::string& name, read_context& ctx) const {
    auto s = read_plain_string(n, name, ctx, false);
    if (s && !s->empty() && !ctx.base_dir.empty() && (*s)[0] != '/') {
      return (std::filesystem::path(ctx.base_dir) / *s).lexically_normal().string();
    }
    return s;
  }
  std::string show(const std::string& v) const { return toml_string(v); }
};

struct duration_codec {
  std::int64_t min_ms;
  std::int64_t max_ms;
  std::string type() const { return "duration, " + format_duration(min_ms) + " to " + format_duration(max_ms); }
  std::optional<std::int64_t> read(const toml::node& n, const std::string& name, read_context& ctx) const {
    const auto* v = n.as_string();
    if (v == nullptr) {
      wrong_type(ctx, n, name, "a duration string such as \"30s\"");
      return std::nullopt;
    }
    auto ms = parse_duration_ms(v->get());
    if (!ms) {
      ctx.diag.error(position_of(n.source()), name + ": " + ms.error().message);
      return std::nullopt;
    }
    if (*ms < min_ms || *ms > max_ms) {
      ctx.diag.error(position_of(n.source()), name + ": " + quote_text(v->get()) + " is out of range (" +
                                                  format_duration(min_ms) + " to " + format_duration(max_ms) + ")");
      return std::nullopt;
    }
    return *ms;
  }
  std::string show(std::int64_t v) const { return toml_string(format_duration(v)); }
};

template <class E>
struct enum_codec {
  std::vector<E> values;
  std::function<std::string_view(E)> name_of;
  std::string names() const {
    std::string out;
    for (E e : values) {
      out += (out.empty() ? "" : ", ") + std::string(name_of(e));
    }
    return out;
  }
  std::string type() const { return "one of " + names(); }
  std::optional<E> read(const toml::node& n, const std::string& name, read_context& ctx) const {
    const auto* v = n.as_string();
    if (v == nullptr) {
      wrong_type(ctx, n, name, "a string (" + names() + ")");
      return std::nullopt;
    }
    for (E e : values) {
      if (name_of(e) == v->get()) {
        return e;
      }
    }
    ctx.diag.error(position_of(n.source()), name + ": " + quote_text(v->get()) + " is not one of " + names());
    return std::nullopt;
  }
  std::string show(E v) const { return toml_string(name_of(v)); }
};

struct listener_codec {
  std::string type() const { return "listener (\"inet:ADDRESS:PORT\", \"inet:[IPv6]:PORT\", \"unix:/path\" or \"\")"; }
  std::optional<listen_address> read(const toml::node& n, const std::string& name, read_context& ctx) const {
    const auto* v = n.as_string();
    if (v == nullptr) {
      wrong_type(ctx, n, name, "a listener string such as \"inet:127.0.0.1:10050\"");
      return std::nullopt;
    }
    auto a = parse_listen_address(v->get());
    if (!a) {
      ctx.diag.error(position_of(n.source()), name + ": " + a.error().message);
      return std::nullopt;
    }
    return *a;
  }
  std::string show(const listen_address& v) const { return toml_string(v.to_string()); }
};

// One number per behaviour window (1 min, 10 min, 1 h, 24 h).
struct window_numbers_codec {
  double min;
  double max;
  std::string type() const {
    return std::to_string(behavior::window_count) + " numbers (1 min, 10 min, 1 h, 24 h), each " + toml_number(min) +
           " to " + toml_number(max);
  }
  std::optional<std::array<double, behavior::window_count>> read(const toml::node& n, const std::string& name,
                                                                 read_context& ctx) const {
    const auto* a = n.as_array();
    if (a == nullptr || a->size() != behavior::window_count) {
      if (a == nullptr) {
        wrong_type(ctx, n, name, "an array of 4 numbers");
      } else {
        ctx.diag.error(position_of(n.source()),
                       name + ": expected 4 numbers (1 min, 10 min, 1 h, 24 h), found " + std::to_string(a->size()));
      }
      return std::nullopt;
    }
    std::array<double, behavior::window_count> out{};
    bool ok = true;
    const real_codec each{min, max};
    for (std::size_t i = 0; i < out.size(); ++i) {
      auto v = each.read((*a)[i], name + "[" + std::to_string(i) + "]", ctx);
      ok = ok && v.has_value();
      out[i] = v.value_or(0.0);
    }
    return ok ? std::optional(out) : std::nullopt;
  }
  std::string show(const std::array<double, behavior::window_count>& v) const {
    std::string out = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
      out += (i == 0 ? "" : ", ") + toml_number(v[i]);
    }
    return out + "]";
  }
};

// ---------------------------------------------------------------------------------------------
// The registry machinery: options of a settings type S, declared once each.

template <class S>
struct option {
  std::string key;  // dotted, relative to S ("server.milter"; "watch_at" inside a plan)
  std::string type;
  std::string help;
  bool required = false;  // for options inside [[array]] elements: the key must be present
  std::function<void(S&, const toml::node&, const std::string& name, read_context&)> read;
  // The value as TOML text; nullopt leaves the key out of to_toml (cidr vs login).
  std::function<std::optional<std::string>(const S&)> show;
  // For [[array]] options: the elements as TOML tables, and their options for the docs.
  std::function<void(const S&, const std::string& name, std::string& out)> write_elements;
  std::function<void(const std::string& name, std::string& out)> describe_elements;
};

template <class S>
struct registry {
  std::vector<std::pair<std::string, std::string>> sections;  // name, help; empty inside [[array]] elements
  std::vector<option<S>> options;
  // Checks one [[array]] element after its keys were read (cross-key rules such as "cidr or login").
  std::function<void(S&, const toml::table&, const std::string& name, read_context&)> finish;

  const option<S>* find(std::string_view key) const {
    for (const auto& o : options) {
      if (o.key == key) {
        return &o;
      }
    }
    return nullptr;
  }
  bool is_section(std::string_view key) const {
    return std::any_of(sections.begin(), sections.end(), [&](const auto& s) { return s.first == key; });
  }
};

template <class S, class Codec, class Access>
option<S> make_option(std::string key, Codec codec, Access access, std::string help,
                      std::function<bool(const S&)> shown_if = nullptr) {
  option<S> o;
  o.key = std::move(key);
  o.type = codec.type();
  o.help = std::move(help);
  o.read = [codec, access](S& s, const toml::node& n, const std::string& name, read_context& ctx) {
    if (auto v = codec.read(n, name, ctx)) {
      access(s) = std::move(*v);
    }
  };
  o.show = [codec, access, shown_if](const S& s) -> std::optional<std::string> {
    if (shown_if && !shown_if(s)) {
      return std::nullopt;
    }
    return codec.show(access(s));
  };
  return o;
}

template <class S>
option<S> required(option<S> o) {
  o.required = true;
  return o;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string_view parent_of(std::string_view key) {
  const auto dot = key.rfind('.');
  return dot == std::string_view::npos ? std::string_view{} : key.substr(0, dot);
}
std::string_view leaf_of(std::string_view key) {
  const auto dot = key.rfind('.');
  return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

// The known key an unknown one was probably meant to be: in the same table, a small edit away or
// one a prefix of the other ("milter_listen" → "milter"); else the same name in another table.
template <class S>
std::optional<std::string> suggestion(std::string_view unknown, const registry<S>& reg) {
  constexpr std::size_t longest_considered = 64;  // bounds the edit-distance work on hostile keys
  const std::string_view leaf = leaf_of(unknown);
  if (leaf.size() > longest_considered) {
    return std::nullopt;
  }
  std::vector<std::string_view> known;
  for (const auto& s : reg.sections) {
    known.push_back(s.first);
  }
  for (const auto& o : reg.options) {
    known.push_back(o.key);
  }
  std::optional<std::string_view> best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (std::string_view k : known) {
    if (parent_of(k) != parent_of(unknown)) {
      continue;
    }
    const std::string_view kl = leaf_of(k);
    const std::size_t d = edit_distance(leaf, kl);
    const bool close = d <= std::max<std::size_t>(2, std::min(leaf.size(), kl.size()) / 3);
    const bool prefix = std::min(leaf.size(), kl.size()) >= 3 && (leaf.starts_with(kl) || kl.starts_with(leaf));
    if ((close || prefix) && d < best_distance) {
      best = k;
      best_distance = d;
    }
  }
  if (!best) {
    for (std::string_view k : known) {
      if (leaf_of(k) == leaf && k != unknown) {
        best = k;
        break;
      }
    }
  }
  if (!best) {
    return std::nullopt;
  }
  return std::string(*best);
}

std::string joined(std::string_view prefix, std::string_view key) {
  return prefix.empty() ? std::string(key) : std::string(prefix) + "." + std::string(key);
}

// Reads `table` (found at `lookup_prefix` within S's registry) into `target`; names in messages are
// prefixed with `display_prefix` (e.g. "engine.plans" inside a plan element).
template <class S>
void read_table(const toml::table& table, const registry<S>& reg, const std::string& lookup_prefix,
                const std::string& display_prefix, S& target, read_context& ctx) {
  for (auto&& [k, node] : table) {
    const std::string key = joined(lookup_prefix, k.str());
    const std::string name = joined(display_prefix, k.str());
    ctx.places.emplace(name, position_of(k.source()));
    if (const option<S>* o = reg.find(key)) {
      o->read(target, node, name, ctx);
    } else if (reg.is_section(key)) {
      if (const auto* sub = node.as_table()) {
        read_table(*sub, reg, key, name, target, ctx);
      } else {
        wrong_type(ctx, node, name, "a table ([" + name + "])");
      }
    } else {
      std::string text = "unknown key " + quote_text(name);
      if (auto near = suggestion(key, reg)) {
        // Suggestions are keys of the registry; shown under the prefix the registry's root has in the
        // file ("" for settings, "engine.plans" inside a plan).
        const std::string root_display = display_prefix.substr(0, display_prefix.size() - lookup_prefix.size());
        text += " (did you mean " + quote_text(joined(root_display, *near)) + "?)";
      }
      ctx.diag.error(position_of(k.source()), std::move(text));
    }
  }
}

// An option holding a list of T read from an array of tables ([[name]]), each element read with
// T's own registry. The list replaces the default list as a whole.
template <class S, class T, class Access>
option<S> table_array(std::string key, const registry<T>* element_registry, Access access, std::string help,
                      std::function<std::string(const std::vector<T>&)> describe_default) {
  option<S> o;
  o.key = std::move(key);
  o.type = "array of tables, [[" + o.key + "]]";
  o.help = std::move(help);
  o.read = [element_registry, access](S& s, const toml::node& n, const std::string& name, read_context& ctx) {
    const auto* a = n.as_array();
    if (a == nullptr || (!a->empty() && !a->is_array_of_tables())) {
      wrong_type(ctx, n, name, "an array of tables ([[" + name + "]])");
      return;
    }
    std::vector<T> elements;
    auto& places = ctx.element_places[name];
    places.clear();
    for (std::size_t i = 0; i < a->size(); ++i) {
      const toml::table& t = *(*a)[i].as_table();
      const std::string element_name = name + "[" + std::to_string(i + 1) + "]";
      T element{};
      read_table(t, *element_registry, "", name, element, ctx);
      for (const auto& eo : element_registry->options) {
        if (eo.required && !t.contains(eo.key)) {
          ctx.diag.error(position_of(t.source()), element_name + ": '" + eo.key + "' is required");
        }
      }
      if (element_registry->finish) {
        element_registry->finish(element, t, element_name, ctx);
      }
      places.push_back(position_of(t.source()));
      elements.push_back(std::move(element));
    }
    access(s) = std::move(elements);
  };
  o.show = [describe_default, access](const S& s) -> std::optional<std::string> { return describe_default(access(s)); };
  o.write_elements = [element_registry, access](const S& s, const std::string& name, std::string& out) {
    for (const T& element : access(s)) {
      out += "\n[[" + name + "]]\n";
      for (const auto& eo : element_registry->options) {
        if (auto text = eo.show(element)) {
          out += eo.key + " = " + *text + "\n";
        }
      }
    }
  };
  o.describe_elements = [element_registry](const std::string& name, std::string& out) {
    const T defaults{};
    for (const auto& eo : element_registry->options) {
      out += "\n### `" + name + "[]." + eo.key + "`\n\n" + eo.type;
      if (eo.required) {
        out += " — required";
      } else if (auto text = eo.show(defaults)) {
        out += " — default `" + *text + "`";
      }
      out += "\n\n" + eo.help + "\n";
    }
  };
  return o;
}

// ---------------------------------------------------------------------------------------------
// The options. Each is declared here once; docs/CONFIG.md is generated from these declarations.

// Subscriber-table keys that identity::cidr_directory treats as addresses; any other key is a login.
bool looks_like_address(std::string_view key) {
  return key.find_first_of("/:") != std::string_view::npos ||
         (!key.empty() &&
          std::all_of(key.begin(), key.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; }));
}

const enum_codec<behavior::level>& level_codec() {
  static const enum_codec<behavior::level> codec{
      {behavior::level::normal, behavior::level::watch, behavior::level::throttle, behavior::level::hold},
      [](behavior::level l) { return behavior::level_name(l); }};
  return codec;
}

std::string plan_names(const std::vector<behavior::plan_settings>& plans) {
  std::string out = std::to_string(plans.size()) + (plans.size() == 1 ? " plan" : " plans");
  for (std::size_t i = 0; i < plans.size(); ++i) {
    out += (i == 0 ? ": " : ", ") + toml_string(plans[i].name);
  }
  return out;
}

const registry<behavior::plan_settings>& plan_registry() {
  using P = behavior::plan_settings;
  static const registry<P> reg = [] {
    registry<P> r;
    const real_codec threshold{0.0, 1000.0};
    const real_codec per_day{0.0, 1e9};
    const real_codec weight{0.0, 100.0};
    r.options = {
        required(make_option<P>(
            "name", string_codec{true}, [](auto& p) -> auto& { return p.name; },
            "The plan's name, as subscriber entries and engine.default_plan refer to it.")),
        make_option<P>(
            "ceiling", level_codec(), [](auto& p) -> auto& { return p.ceiling; },
            "The highest level the engine may reach on its own for this plan (e.g. \"throttle\" for "
            "customers who must never be held automatically)."),
        make_option<P>(
            "watch_at", threshold, [](auto& p) -> auto& { return p.watch_at; },
            "Suspicion at which a subscriber enters watch: its mail is tagged with X-Portwarden "
            "headers."),
        make_option<P>(
            "throttle_at", threshold, [](auto& p) -> auto& { return p.throttle_at; },
            "Suspicion at which a subscriber is throttled: mail beyond "
            "throttle_messages_per_hour is deferred (4xx); the sender's MTA retries, nothing is lost."),
        make_option<P>(
            "hold_at", threshold, [](auto& p) -> auto& { return p.hold_at; },
            "Suspicion at which each further message goes to Postfix's hold queue, releasable."),
        make_option<P>(
            "prior_messages_per_day", per_day, [](auto& p) -> auto& { return p.prior_messages_per_day; },
            "Baseline messages per day assumed for a new subscriber until its own is learnt."),
        make_option<P>(
            "prior_recipients_per_day", per_day, [](auto& p) -> auto& { return p.prior_recipients_per_day; },
            "Baseline recipients per day assumed for a new subscriber until its own is learnt."),
        make_option<P>(
            "baseline_alpha", real_codec{0.0, 1.0}, [](auto& p) -> auto& { return p.baseline_alpha; },
            "How fast the baseline follows each active day's volume (EWMA weight of the new day)."),
        make_option<P>(
            "floor_messages", window_numbers_codec{0.0, 1e9}, [](auto& p) -> auto& { return p.floor_messages; },
            "Messages always allowed per window before volume counts as excess, whatever the "
            "baseline."),
        make_option<P>(
            "floor_recipients", window_numbers_codec{0.0, 1e9}, [](auto& p) -> auto& { return p.floor_recipients; },
            "Recipients always allowed per window before volume counts as excess."),
        make_option<P>(
            "burst_factor", window_numbers_codec{0.0, 1e6}, [](auto& p) -> auto& { return p.burst_factor; },
            "Allowance per window on top of the floor, as a multiple of the baseline's share of that "
            "window."),
        make_option<P>(
            "novelty_weight", weight, [](auto& p) -> auto& { return p.novelty_weight; },
            "How much a high share of never-seen recipients and domains amplifies a volume excess."),
        make_option<P>(
            "content_weight", weight, [](auto& p) -> auto& { return p.content_weight; },
            "How much the classifier's mean spam probability (above 0.5) amplifies a volume excess."),
        make_option<P>(
            "campaign_weight", weight, [](auto& p) -> auto& { return p.campaign_weight; },
            "How much membership in active campaigns (sent by campaigns.k subscribers) counts; with a high "
            "spam probability it can hold a low-rate bot, without one it tags at most; 0 turns it off."),
        make_option<P>(
            "churn_weight", weight, [](auto& p) -> auto& { return p.churn_weight; },
            "Suspicion added per doubling of envelope-sender or client (HELO name or address) changes per hour "
            "beyond 2."),
        make_option<P>(
            "takeover_weight", weight, [](auto& p) -> auto& { return p.takeover_weight; },
            "Stolen-credential pattern: spammy mail (mean probability >= 0.9) mostly to new recipients from a "
            "client that changed twice in the hour reaches hold at 1; 0 turns it off."),
        make_option<P>(
            "bounce_weight", weight, [](auto& p) -> auto& { return p.bounce_weight; },
            "How much hard bounces from the delivery log (ingest.maillog) count: 5 or more in a day at 20 % or "
            "more of the day's recipients throttle, and so do many at a lower share (13 of 100, 45 of 500); "
            "with a client changing in the hour, the hour's bounces hold; 0 turns them off."),
        make_option<P>(
            "throttle_messages_per_hour", per_day, [](auto& p) -> auto& { return p.throttle_messages_per_hour; },
            "While throttled, messages per hour accepted before further ones are deferred."),
    };
    return r;
  }();
  return reg;
}

const registry<identity::directory_entry>& entry_registry() {
  using E = identity::directory_entry;
  static const registry<E> reg = [] {
    registry<E> r;
    r.options = {
        make_option<E>(
            "cidr", string_codec{true}, [](auto& e) -> auto& { return e.key; },
            "Client network (\"192.0.2.0/24\", \"2001:db8::/48\") or one address. Give cidr or login, "
            "not both.",
            [](const E& e) { return looks_like_address(e.key); }),
        make_option<E>(
            "login", string_codec{true}, [](auto& e) -> auto& { return e.key; },
            "SASL login name (Postfix's sasl_username).",
            [](const E& e) { return !e.key.empty() && !looks_like_address(e.key); }),
        required(make_option<E>(
            "id", string_codec{true}, [](auto& e) -> auto& { return e.id; },
            "Subscriber id used in logs, the store and the API.")),
        make_option<E>(
            "plan", string_codec{}, [](auto& e) -> auto& { return e.plan; },
            "Plan name (one of engine.plans); \"\" = engine.default_plan."),
        make_option<E>(
            "contact", string_codec{}, [](auto& e) -> auto& { return e.contact; },
            "Where the operator reaches the customer; never logged."),
    };
    r.finish = [](E& e, const toml::table& t, const std::string& name, read_context& ctx) {
      const bool has_cidr = t.contains("cidr");
      const bool has_login = t.contains("login");
      if (has_cidr == has_login) {
        ctx.diag.error(position_of(t.source()), name + ": give exactly one of 'cidr' and 'login'");
      } else if (has_cidr && !e.key.empty() && !looks_like_address(e.key)) {
        ctx.diag.error(position_of(t["cidr"].node()->source()),
                       name + ".cidr: " + quote_text(e.key) + " is not an address or network");
      } else if (has_login && !e.key.empty() && looks_like_address(e.key)) {
        ctx.diag.error(position_of(t["login"].node()->source()),
                       name + ".login: " + quote_text(e.key) + " looks like an address; use 'cidr'");
      }
    };
    return r;
  }();
  return reg;
}

const registry<desk_plan_settings>& desk_plan_registry() {
  using D = desk_plan_settings;
  static const registry<D> reg = [] {
    registry<D> r;
    const integer_codec<std::int64_t> days{0, 36'500};
    r.options = {
        required(make_option<D>("name", string_codec{true}, [](auto& p) -> auto& { return p.name; },
                                "The plan, as named in engine.plans.")),
        make_option<D>("port25_open", bool_codec{}, [](auto& p) -> auto& { return p.rules.port25_open_by_default; },
                       "Whether the plan reaches remote port 25 without an exemption (business: yes, "
                       "residential: no)."),
        make_option<D>("self_service", bool_codec{}, [](auto& p) -> auto& { return p.rules.self_service; },
                       "Whether the rules below may grant an exemption request by themselves; otherwise every "
                       "request waits for a person."),
        make_option<D>("min_account_age_days", days, [](auto& p) -> auto& { return p.rules.min_account_age_days; },
                       "Account age needed for a self-service grant."),
        make_option<D>("no_case_days", days, [](auto& p) -> auto& { return p.rules.no_case_days; },
                       "Days without a case needed for a self-service grant."),
        make_option<D>("require_static_address", bool_codec{},
                       [](auto& p) -> auto& { return p.rules.require_static_address; },
                       "A self-service grant needs a static address in the subscriber table."),
        make_option<D>("max_auto_grants", integer_codec<std::int64_t>{0, 1000},
                       [](auto& p) -> auto& { return p.rules.max_auto_grants; },
                       "Automatic grants per subscriber, ever; beyond that a person decides."),
        make_option<D>("grant_days", days, [](auto& p) -> auto& { return p.rules.grant_days; },
                       "How long a grant lasts (0: until revoked)."),
    };
    return r;
  }();
  return reg;
}

const registry<settings>& settings_registry() {
  static const registry<settings> reg = [] {
    registry<settings> r;
    r.sections = {
        {"server", "Listeners, privileges and the daemon's limits."},
        {"engine",
         "The behaviour engine: evidence per subscriber and the graduated response normal → watch (tag) → "
         "throttle (defer beyond a rate) → hold (Postfix hold queue)."},
        {"classifier", "Content scoring. Without a model the engine decides on behaviour alone (content-blind)."},
        {"campaigns",
         "Campaigns across subscribers: near-duplicate messages grouped by keyed one-way fingerprints; a "
         "campaign sent by campaigns.k distinct subscribers is active and is evidence for each of them."},
        {"store", "The embedded store: subscriber state snapshots, the decision log and held messages."},
        {"privacy", "Keyed one-way hashing of recipients, domains, senders and HELO names."},
        {"ingest", "Evidence from after the relay: hard bounces in the Postfix delivery log."},
        {"subscribers",
         "Who is sending: SASL logins and client addresses mapped to subscriber ids and plans. An unlisted "
         "login is its own id; an unlisted address becomes `ip:<address>`; both get engine.default_plan."},
        {"desk",
         "The abuse desk: a case per throttled or held subscriber, customer notices, the self-help page, "
         "port-25 exemptions and the web UI. Its ledger holds no message content."},
        {"log", "Logging. Log lines never contain message content or addresses."},
    };
    const duration_codec engine_time{60'000, 3650LL * 24 * 3600 * 1000};
    r.options = {
        make_option<settings>(
            "server.milter", listener_codec{}, [](auto& s) -> auto& { return s.server.milter; },
            "Where Postfix's smtpd_milters connects (milter protocol 6). \"\" disables it."),
        make_option<settings>(
            "server.policy", listener_codec{}, [](auto& s) -> auto& { return s.server.policy; },
            "Where Postfix's check_policy_service connects (policy delegation). \"\" disables "
            "it."),
        make_option<settings>(
            "server.http", listener_codec{}, [](auto& s) -> auto& { return s.server.http; },
            "Health, Prometheus metrics and the subscriber API. Keep it on loopback or a "
            "management network. \"\" disables it."),
        make_option<settings>(
            "server.user", string_codec{}, [](auto& s) -> auto& { return s.server.user; },
            "When started as root, drop to this user after binding the listeners and opening "
            "files. \"\" keeps the starting user."),
        make_option<settings>(
            "server.worker_threads", integer_codec<std::int64_t>{1, 256},
            [](auto& s) -> auto& { return s.server.worker_threads; },
            "Threads that compute the verdicts of messages larger than server.inline_verdict_bytes and serve "
            "HTTP requests; the network loop has its own."),
        make_option<settings>(
            "server.verdict_deadline", duration_codec{10, 25'000},
            [](auto& s) -> auto& { return s.server.verdict_deadline_ms; },
            "Time allowed for one verdict; past it the fallback applies, and is logged and "
            "counted. Keep it well inside Postfix's milter_command_timeout (default 30s)."),
        make_option<settings>(
            "server.inline_verdict_bytes", integer_codec<std::int64_t>{0, 1LL << 20},
            [](auto& s) -> auto& { return s.server.inline_verdict_bytes; },
            "Messages up to this size (the bytes read for scoring) are decided on the network loop "
            "itself, which saves the hand-off to a worker thread and back (most mail is a few KB; its "
            "verdict takes well under a millisecond). Larger ones go to the workers, where "
            "server.verdict_deadline applies. 0 sends every message to a worker."),
        make_option<settings>(
            "server.fallback",
            enum_codec<fallback_action>{{fallback_action::accept, fallback_action::tempfail}, fallback_action_name},
            [](auto& s) -> auto& { return s.server.fallback; },
            "The answer when a verdict misses its deadline or a backend fails: accept (mail "
            "flows unchecked) or tempfail (4xx: the sending MTA retries, nothing is lost)."),
        make_option<settings>(
            "server.drain_timeout", duration_codec{0, 600'000},
            [](auto& s) -> auto& { return s.server.drain_timeout_ms; },
            "On shutdown, how long sessions in flight may finish before connections close."),
        make_option<settings>(
            "server.max_message_bytes", integer_codec<std::int64_t>{4096, 1LL << 30},
            [](auto& s) -> auto& { return s.server.max_message_bytes; },
            "The most bytes of one message read for content scoring; the rest passes "
            "unscanned (the message itself is never cut)."),
        make_option<settings>(
            "server.clock", enum_codec<clock_source>{{clock_source::system, clock_source::api}, clock_source_name},
            [](auto& s) -> auto& { return s.server.clock; },
            "Where the daemon's time comes from: system, or api (PUT /api/v1/clock with {\"now_ms\": N} sets it; "
            "for simulators replaying traffic on simulated time, never for production). Changes at restart only."),
        make_option<settings>(
            "server.tag", enum_codec<tag_mode>{{tag_mode::all, tag_mode::flagged}, tag_mode_name},
            [](auto& s) -> auto& { return s.server.tag; },
            "Which accepted messages get the X-Portwarden header (level, action, spam probability): all, "
            "or flagged (only a subscriber at watch or above, or what observe-only would have acted on). "
            "Postfix's cleanup rewrites the queue file for each header a milter adds, so flagged is "
            "cheaper on ordinary mail."),

        make_option<settings>(
            "engine.observe_only", bool_codec{}, [](auto& s) -> auto& { return s.engine.observe_only; },
            "Compute and log levels and intended actions but enforce nothing beyond tagging; "
            "for a first deployment."),
        make_option<settings>(
            "engine.hysteresis", real_codec{0.0, 1.0}, [](auto& s) -> auto& { return s.engine.hysteresis; },
            "A level falls only after suspicion stayed below its threshold × this factor for "
            "engine.cool_down (strictly between 0 and 1)."),
        make_option<settings>(
            "engine.cool_down", duration_codec{0, 30LL * 24 * 3600 * 1000},
            [](auto& s) -> auto& { return s.engine.cool_down_ms; },
            "How long suspicion must stay low before a level falls one step."),
        make_option<settings>(
            "engine.hold_timeout", engine_time, [](auto& s) -> auto& { return s.engine.hold_timeout_ms; },
            "A hold that nobody releases ends after this (held mail stays in Postfix's hold "
            "queue until released there)."),
        make_option<settings>(
            "engine.grace", duration_codec{0, 3650LL * 24 * 3600 * 1000},
            [](auto& s) -> auto& { return s.engine.grace_ms; },
            "After a release, crossing the throttle threshold within this time goes straight "
            "to hold."),
        make_option<settings>(
            "engine.expire_idle", engine_time, [](auto& s) -> auto& { return s.engine.expire_idle_ms; },
            "Subscribers idle this long are forgotten, in memory and in the store."),
        make_option<settings>(
            "engine.shards", integer_codec<std::size_t>{1, 4096}, [](auto& s) -> auto& { return s.engine.shards; },
            "Lock shards of the subscriber table; more shards, less contention between "
            "worker threads."),
        make_option<settings>(
            "engine.default_plan", string_codec{true}, [](auto& s) -> auto& { return s.engine.default_plan; },
            "Plan of subscribers without one (unlisted logins and addresses); must name one of "
            "engine.plans."),
        table_array<settings, behavior::plan_settings>(
            "engine.plans", &plan_registry(), [](auto& s) -> auto& { return s.engine.plans; },
            "Response plans, e.g. one for residential and one for business customers. Listing any plan "
            "replaces the built-in ones; a key left out of a plan takes the default below.",
            plan_names),

        make_option<settings>(
            "classifier.model", path_codec{}, [](auto& s) -> auto& { return s.classifier.model; },
            "Model file written by `portwarden train`; \"\" = content-blind."),

        make_option<settings>(
            "campaigns.enabled", bool_codec{}, [](auto& s) -> auto& { return s.campaigns.enabled; },
            "Fingerprint every message and track campaigns. Fingerprints are keyed one-way hashes; "
            "nothing readable is kept but the URL domains of campaigns sent by campaigns.k subscribers."),
        make_option<settings>(
            "campaigns.k", integer_codec<std::size_t>{2, 1000}, [](auto& s) -> auto& { return s.campaigns.tracker.k; },
            "Distinct subscribers that make a campaign active, and that content-derived evidence (URL "
            "domains, subject shape, first seen) needs before the API shows it (k-anonymity)."),
        make_option<settings>(
            "campaigns.window", duration_codec{60'000, 30LL * 24 * 3600 * 1000},
            [](auto& s) -> auto& { return s.campaigns.tracker.window_ms; },
            "The window in which campaigns.k distinct subscribers make a campaign active."),
        make_option<settings>(
            "campaigns.similarity", real_codec{0.05, 1.0},
            [](auto& s) -> auto& { return s.campaigns.tracker.similarity; },
            "Minimum estimated similarity of a message to a campaign's template to join it."),
        make_option<settings>(
            "campaigns.expire_idle", duration_codec{60'000, 365LL * 24 * 3600 * 1000},
            [](auto& s) -> auto& { return s.campaigns.tracker.expire_idle_ms; },
            "Campaigns not seen for this long are forgotten, in memory and in the store."),
        make_option<settings>(
            "campaigns.max_campaigns", integer_codec<std::size_t>{1000, 16'000'000},
            [](auto& s) -> auto& { return s.campaigns.tracker.max_campaigns; },
            "Memory bound: beyond this many tracked campaigns the least recently seen are evicted."),

        make_option<settings>(
            "store.path", path_codec{}, [](auto& s) -> auto& { return s.store.path; },
            "SQLite database (WAL mode); its directory must exist and be writable by "
            "server.user."),
        make_option<settings>(
            "store.snapshot_interval", duration_codec{1000, 3'600'000},
            [](auto& s) -> auto& { return s.store.snapshot_interval_ms; },
            "How often changed subscriber state is written; a crash forgets at most this much "
            "behaviour."),
        make_option<settings>(
            "store.decision_retention", duration_codec{3'600'000, 3650LL * 24 * 3600 * 1000},
            [](auto& s) -> auto& { return s.store.decision_retention_ms; },
            "Decisions older than this are pruned from the log."),

        make_option<settings>(
            "ingest.maillog", path_codec{}, [](auto& s) -> auto& { return s.ingest.maillog; },
            "The relay's Postfix delivery log, read as it grows (a syslog file such as /var/log/mail.log, "
            "or Postfix's own maillog_file; rotation is followed). Hard bounces of mail Portwarden let "
            "through count as evidence (engine.plans[].bounce_weight). Needs read access for server.user. "
            "\"\" = no bounce evidence."),
        make_option<settings>(
            "ingest.maillog_poll", duration_codec{50, 60'000},
            [](auto& s) -> auto& { return s.ingest.maillog_poll_ms; },
            "How often the delivery log is checked for new lines."),
        make_option<settings>(
            "ingest.attribution_capacity", integer_codec<std::size_t>{0, 100'000'000},
            [](auto& s) -> auto& { return s.ingest.attribution_capacity; },
            "Memory bound (~100 bytes each): how many relayed messages' queue ids are remembered, so that "
            "their bounces find the subscriber."),
        make_option<settings>(
            "ingest.attribution_ttl", duration_codec{60'000, 30LL * 24 * 3600 * 1000},
            [](auto& s) -> auto& { return s.ingest.attribution_ttl_ms; },
            "How long a relayed message's queue id is remembered; a bounce later than this is not evidence."),

        make_option<settings>(
            "privacy.secret_file", path_codec{}, [](auto& s) -> auto& { return s.privacy.secret_file; },
            "File holding the hashing key: at least 16 random bytes, readable only by "
            "portwarden (e.g. `head -c 32 /dev/urandom > secret; chmod 600 secret`). \"\" uses a "
            "fixed built-in key, with which anyone reading the store can test a guessed "
            "address: set one."),

        make_option<settings>(
            "subscribers.file", path_codec{}, [](auto& s) -> auto& { return s.subscribers.file; },
            "Subscriber table, one `key<TAB>id<TAB>plan[<TAB>contact]` line each (key: CIDR, "
            "address or SASL login; `#` starts a comment). \"\" = none."),
        table_array<settings, identity::directory_entry>(
            "subscribers.entry", &entry_registry(), [](auto& s) -> auto& { return s.subscribers.entries; },
            "Subscribers listed in this file, in addition to subscribers.file.",
            [](const std::vector<identity::directory_entry>& v) {
              return std::to_string(v.size()) + (v.size() == 1 ? " entry" : " entries");
            }),

        make_option<settings>(
            "desk.enabled", bool_codec{}, [](auto& s) -> auto& { return s.desk.enabled; },
            "Open cases, send notices and serve the desk API and pages."),
        make_option<settings>(
            "desk.ledger", path_codec{}, [](auto& s) -> auto& { return s.desk.ledger; },
            "The desk's SQLite database (cases, notices, exemptions, users, audit). \"\" = desk.db in the "
            "directory of store.path."),
        make_option<settings>(
            "desk.web_root", path_codec{}, [](auto& s) -> auto& { return s.desk.web_root; },
            "Directory of the built web UI (`make web` writes build/web), served under /desk/. \"\" serves "
            "no pages; the JSON API stays."),
        make_option<settings>(
            "desk.public_url", string_codec{true}, [](auto& s) -> auto& { return s.desk.public_url; },
            "How customers reach this daemon's HTTP listener (through the ISP's web front end): the base "
            "of the self-help links in notices."),
        make_option<settings>(
            "desk.isp_name", string_codec{true}, [](auto& s) -> auto& { return s.desk.isp_name; },
            "The provider's name as notices and the self-help page say it."),
        make_option<settings>(
            "desk.secure_cookies", bool_codec{}, [](auto& s) -> auto& { return s.desk.secure_cookies; },
            "Mark the session cookie Secure (when the desk is reached over TLS)."),
        make_option<settings>(
            "desk.session_ttl", duration_codec{60'000, 30LL * 24 * 3600 * 1000},
            [](auto& s) -> auto& { return s.desk.session_ttl_ms; }, "How long a desk login lasts."),
        make_option<settings>(
            "desk.help_token_ttl", duration_codec{3'600'000, 365LL * 24 * 3600 * 1000},
            [](auto& s) -> auto& { return s.desk.help_token_ttl_ms; },
            "How long a self-help link in a notice stays valid."),
        make_option<settings>(
            "desk.release_command", string_list_codec{}, [](auto& s) -> auto& { return s.desk.release_command; },
            "Releases held mail: run without a shell with the queue ids on standard input, one per line "
            "(postsuper needs Postfix's privileges: as a dropped user use e.g. [\"sudo\", \"-n\", "
            "\"/usr/sbin/postsuper\", \"-H\", \"-\"]; add \"-c\", DIR for a Postfix instance other than the "
            "default)."),
        make_option<settings>(
            "desk.release_timeout", duration_codec{100, 600'000},
            [](auto& s) -> auto& { return s.desk.release_timeout_ms; },
            "Time allowed for one run of desk.release_command."),
        make_option<settings>(
            "desk.monitoring", duration_codec{0, 365LL * 24 * 3600 * 1000},
            [](auto& s) -> auto& { return s.desk.cases.monitoring_ms; },
            "After a self-help fix or a release, how long a case is watched before it resolves."),
        make_option<settings>(
            "desk.reoffence_window", duration_codec{0, 3650LL * 24 * 3600 * 1000},
            [](auto& s) -> auto& { return s.desk.cases.reoffence_window_ms; },
            "A new case this soon after the subscriber's last resolved one opens escalated (a person looks)."),
        make_option<settings>(
            "desk.self_help_limit", integer_codec<std::int64_t>{0, 100},
            [](auto& s) -> auto& { return s.desk.cases.self_help_limit; },
            "\"I have fixed it\" uses that lift a hold by themselves within desk.self_help_window; a repeat "
            "goes to a person."),
        make_option<settings>(
            "desk.self_help_window", duration_codec{0, 3650LL * 24 * 3600 * 1000},
            [](auto& s) -> auto& { return s.desk.cases.self_help_window_ms; },
            "The window desk.self_help_limit counts over."),
        make_option<settings>(
            "desk.verify_messages", real_codec{0.0, 1e6}, [](auto& s) -> auto& { return s.desk.cases.verify_messages; },
            "A verified release: \"I have fixed it\" is refused, without using up the self-help fix, while "
            "the subscriber's last 10 minutes still hold this many messages (held ones included) and mail "
            "is still coming (desk.verify_quiet): the "
            "clean-up has not worked, and a release would only send the held spam. 0 turns the check off."),
        make_option<settings>(
            "desk.verify_quiet", duration_codec{0, 24LL * 3600 * 1000},
            [](auto& s) -> auto& { return s.desk.cases.verify_quiet_ms; },
            "... and the last of those messages came less than this long ago (the self-help page asks the "
            "customer to wait 15 minutes after the clean-up)."),
        make_option<settings>(
            "desk.notice_relay", listener_codec{}, [](auto& s) -> auto& { return s.desk.notice_relay; },
            "The SMTP server notices are submitted to, as \"inet:HOST:PORT\" (a literal address). \"\" sends "
            "no notices (cases still open; the desk sees them)."),
        make_option<settings>(
            "desk.notice_from", string_codec{true}, [](auto& s) -> auto& { return s.desk.notice_from; },
            "The notices' sender address (also the envelope sender and the Message-ID domain)."),
        make_option<settings>(
            "desk.notice_from_name", string_codec{}, [](auto& s) -> auto& { return s.desk.notice_from_name; },
            "The display name of the notices' sender."),
        make_option<settings>(
            "desk.notice_templates", path_codec{}, [](auto& s) -> auto& { return s.desk.notice_templates; },
            "Directory with notice-first.txt/.html and notice-reminder.txt/.html (examples in etc/desk)."),
        make_option<settings>(
            "desk.first_notice_delay", duration_codec{0, 24LL * 3600 * 1000},
            [](auto& s) -> auto& { return s.desk.cadence.first_delay_ms; },
            "How long after a case opens the first notice goes out."),
        make_option<settings>(
            "desk.reminder_interval", duration_codec{3'600'000, 30LL * 24 * 3600 * 1000},
            [](auto& s) -> auto& { return s.desk.cadence.reminder_interval_ms; }, "Time between notices of one case."),
        make_option<settings>(
            "desk.max_reminders", integer_codec<std::int64_t>{0, 100},
            [](auto& s) -> auto& { return s.desk.cadence.max_reminders; }, "Reminders after the first notice."),
        make_option<settings>(
            "desk.max_notices_per_day", integer_codec<std::int64_t>{1, 100},
            [](auto& s) -> auto& { return s.desk.cadence.max_per_day; },
            "Notices to one subscriber in any 24 hours, all cases together."),
        table_array<settings, desk_plan_settings>(
            "desk.plans", &desk_plan_registry(), [](auto& s) -> auto& { return s.desk.plans; },
            "Port-25 defaults and exemption rules per plan. Listing any replaces the built-in ones; a plan "
            "without an entry is blocked by default and has no self-service.",
            [](const std::vector<desk_plan_settings>& v) {
              std::string out = std::to_string(v.size()) + (v.size() == 1 ? " plan" : " plans");
              for (std::size_t i = 0; i < v.size(); ++i) {
                out += (i == 0 ? ": " : ", ") + toml_string(v[i].name);
              }
              return out;
            }),

        make_option<settings>(
            "log.level",
            enum_codec<log_level>{{log_level::error, log_level::warning, log_level::info, log_level::debug},
                                  log_level_name},
            [](auto& s) -> auto& { return s.log.level; }, "The lowest severity written."),
    };
    return r;
  }();
  return reg;
}

// ---------------------------------------------------------------------------------------------
// Checks across options and against the file system (stat only)

position place(const read_context& ctx, const std::string& name) {
  const auto it = ctx.places.find(name);
  return it == ctx.places.end() ? position{} : it->second;
}

void check_engine(const settings& s, read_context& ctx) {
  if (auto ok = behavior::validate(s.engine); !ok) {
    const position p = place(ctx, "engine");
    ctx.diag.error(p, "engine: " + ok.error().message);
  }
  if (auto ok = campaign::validate(s.campaigns.tracker, s.campaigns.fingerprint.bins); !ok) {
    ctx.diag.error(place(ctx, "campaigns"), "campaigns: " + ok.error().message);
  }
}

void check_subscribers(settings& s, read_context& ctx) {
  std::set<std::string_view> plans;
  for (const auto& p : s.engine.plans) {
    plans.insert(p.name);
  }
  const auto& places = ctx.element_places["subscribers.entry"];
  std::map<std::string_view, std::size_t> first_use;
  bool entry_errors = false;
  for (std::size_t i = 0; i < s.subscribers.entries.size(); ++i) {
    auto& e = s.subscribers.entries[i];
    const position p = i < places.size() ? places[i] : position{};
    const std::string name = "subscribers.entry[" + std::to_string(i + 1) + "]";
    if (e.key.empty() || e.id.empty()) {
      entry_errors = true;  // already reported while reading
      continue;
    }
    if (e.plan.empty()) {
      e.plan = s.engine.default_plan;
    } else if (plans.count(e.plan) == 0) {
      ctx.diag.error(p, name + ".plan: " + quote_text(e.plan) + " is not one of engine.plans");
      entry_errors = true;
    }
    // One entry at a time, so that each problem points at its own [[subscribers.entry]].
    if (auto one = identity::cidr_directory::build({e}); !one) {
      std::string what = one.error().message;
      if (what.rfind("entry 1: ", 0) == 0) {
        what.erase(0, 9);
      }
      ctx.diag.error(p, name + ": " + what);
      entry_errors = true;
    }
    if (auto [it, fresh] = first_use.emplace(e.key, i + 1); !fresh) {
      ctx.diag.error(p, name + ": " + quote_text(e.key) + " is already listed in subscribers.entry[" +
                            std::to_string(it->second) + "]");
      entry_errors = true;
    }
  }
  if (!entry_errors && !s.subscribers.entries.empty()) {
    if (auto all = identity::cidr_directory::build(s.subscribers.entries); !all) {
      ctx.diag.error(place(ctx, "subscribers"), "subscribers.entry: " + all.error().message);
    }
  }
}

void check_desk(settings& s, read_context& ctx) {
  std::set<std::string_view> engine_plans;
  for (const auto& p : s.engine.plans) {
    engine_plans.insert(p.name);
  }
  // The built-in desk plans name the built-in engine plans; a file that replaces engine.plans and
  // lists no desk.plans simply has no desk rules for its plans (blocked, no self-service).
  const auto& places = ctx.element_places["desk.plans"];
  if (places.empty()) {
    std::erase_if(s.desk.plans, [&](const desk_plan_settings& p) { return engine_plans.count(p.name) == 0; });
  }
  std::set<std::string_view> seen;
  for (std::size_t i = 0; !places.empty() && i < s.desk.plans.size(); ++i) {
    const auto& p = s.desk.plans[i];
    const position at = i < places.size() ? places[i] : place(ctx, "desk");
    const std::string name = "desk.plans[" + std::to_string(i + 1) + "].name";
    if (p.name.empty()) {
      continue;  // reported while reading
    }
    if (engine_plans.count(p.name) == 0) {
      ctx.diag.error(at, name + ": " + quote_text(p.name) + " is not one of engine.plans");
    }
    if (!seen.insert(p.name).second) {
      ctx.diag.error(at, name + ": " + quote_text(p.name) + " is listed twice");
    }
  }
  if (s.desk.notice_relay.type == listen_address::kind::unix_socket) {
    ctx.diag.error(place(ctx, "desk.notice_relay"), "desk.notice_relay: give an inet address (SMTP over TCP)");
  }
  if (s.desk.enabled && s.desk.notice_relay.type != listen_address::kind::disabled) {
    struct stat st {};
    if (::stat(s.desk.notice_templates.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      ctx.diag.error(place(ctx, "desk.notice_templates"),
                     "desk.notice_templates: " + quote_text(s.desk.notice_templates) + " is not a directory");
    }
  }
  if (!s.desk.web_root.empty()) {
    struct stat st {};
    if (::stat(s.desk.web_root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      ctx.diag.error(place(ctx, "desk.web_root"),
                     "desk.web_root: " + quote_text(s.desk.web_root) + " is not a directory (build it with `make web`)");
    }
  }
  if (s.desk.public_url.rfind("http://", 0) != 0 && s.desk.public_url.rfind("https://", 0) != 0) {
    ctx.diag.error(place(ctx, "desk.public_url"), "desk.public_url: must start with http:// or https://");
  }
  if (s.desk.notice_from.find('@') == std::string::npos) {
    ctx.diag.error(place(ctx, "desk.notice_from"), "desk.notice_from: not an address (no @)");
  }
}

void check_file_exists(const std::string& path, const std::string& name, read_context& ctx) {
  if (path.empty()) {
    return;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    ctx.diag.error(place(ctx, name), name + ": cannot use " + quote_text(path) + ": " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    ctx.diag.error(place(ctx, name), name + ": " + quote_text(path) + " is not a regular file");
  }
}

constexpr std::int64_t min_secret_bytes = 16;

void check_secret(const std::string& path, read_context& ctx) {
  const std::string name = "privacy.secret_file";
  if (path.empty()) {
    ctx.diag.warning(place(ctx, name), name +
                                           " is not set: recipient hashes use a fixed built-in key, so "
                                           "anyone who can read the store can test a guessed address");
    return;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    ctx.diag.error(place(ctx, name), name + ": cannot use " + quote_text(path) + ": " + std::strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    ctx.diag.error(place(ctx, name), name + ": " + quote_text(path) + " is not a regular file");
  } else if (st.st_size < min_secret_bytes) {
    ctx.diag.error(place(ctx, name), name + ": " + quote_text(path) + " holds " + std::to_string(st.st_size) +
                                         " bytes; at least " + std::to_string(min_secret_bytes) +
                                         " random bytes are needed");
  } else if ((st.st_mode & S_IROTH) != 0) {
    ctx.diag.warning(place(ctx, name), name + ": " + quote_text(path) + " is readable by every user; chmod o-r it");
  }
}

result<loaded_config> load_text(std::string_view text, std::string_view origin, const std::string& base_dir) {
  if (text.size() > max_config_bytes) {
    return make_error(errc::invalid_config,
                      std::string(origin) + ": larger than " + std::to_string(max_config_bytes) + " bytes");
  }
  diagnostics diag;
  read_context ctx{diag, base_dir, {}, {}};
  loaded_config out;
  toml::table root;
  try {
    root = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    diag.error(position_of(e.source()), std::string(e.description()));
  }
  if (!diag.has_errors()) {
    read_table(root, settings_registry(), "", "", out.values, ctx);
    // A value that failed to read stays at its default, which can make the engine's cross-field
    // rules fail too (a plan without its name is "residential" again); that would only be noise.
    if (!diag.has_errors()) {
      check_engine(out.values, ctx);
    }
    check_subscribers(out.values, ctx);
    check_desk(out.values, ctx);
    check_secret(out.values.privacy.secret_file, ctx);
    check_file_exists(out.values.subscribers.file, "subscribers.file", ctx);
    check_file_exists(out.values.classifier.model, "classifier.model", ctx);
  }
  if (diag.has_errors()) {
    std::string joined_errors;
    for (const auto& line : diag.render(origin, false)) {
      joined_errors += (joined_errors.empty() ? "" : "\n") + line;
    }
    return make_error(errc::invalid_config, std::move(joined_errors));
  }
  out.warnings = diag.render(origin, true);
  return out;
}

bool is_decimal(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public functions

listen_address listen_address::inet(std::string host, std::uint16_t port) {
  listen_address a;
  a.type = kind::inet;
  a.host = std::move(host);
  a.port = port;
  return a;
}

listen_address listen_address::unix_socket(std::string path) {
  listen_address a;
  a.type = kind::unix_socket;
  a.path = std::move(path);
  return a;
}

std::string listen_address::to_string() const {
  switch (type) {
    case kind::disabled:
      return "";
    case kind::inet:
      return host.find(':') != std::string::npos ? "inet:[" + host + "]:" + std::to_string(port)
                                                 : "inet:" + host + ":" + std::to_string(port);
    case kind::unix_socket:
      return "unix:" + path;
  }
  return "";
}

result<listen_address> parse_listen_address(std::string_view text) {
  const auto bad = [&](const std::string& why) -> result<listen_address> {
    return make_error(errc::invalid_config,
                      quote_text(text) + " " + why +
                          " (expected \"inet:ADDRESS:PORT\", \"inet:[IPv6]:PORT\", \"unix:/path\" or \"\" to disable)");
  };
  if (text.empty()) {
    return listen_address{};
  }
  if (text.starts_with("unix:")) {
    const std::string_view path = text.substr(5);
    // sun_path holds 108 bytes including the terminating NUL.
    constexpr std::size_t max_socket_path = 107;
    if (path.empty() || path[0] != '/') {
      return bad("needs an absolute socket path");
    }
    if (path.size() > max_socket_path) {
      return bad("has a socket path longer than " + std::to_string(max_socket_path) + " bytes");
    }
    if (std::any_of(path.begin(), path.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
      return bad("has a control character in its path");
    }
    return listen_address::unix_socket(std::string(path));
  }
  if (!text.starts_with("inet:")) {
    return bad("has no inet: or unix: prefix");
  }
  const std::string_view rest = text.substr(5);
  std::string_view host;
  std::string_view port_text;
  bool v6 = false;
  if (rest.starts_with("[")) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return bad("has an unterminated [IPv6] address or no port");
    }
    host = rest.substr(1, close - 1);
    port_text = rest.substr(close + 2);
    v6 = true;
  } else {
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos) {
      return bad("has no port");
    }
    host = rest.substr(0, colon);
    port_text = rest.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return bad("has an IPv6 address without [brackets]");
    }
  }
  const std::string host_text(host);
  unsigned char buf[sizeof(in6_addr)];
  if (::inet_pton(v6 ? AF_INET6 : AF_INET, host_text.c_str(), buf) != 1) {
    return bad(v6 ? "has an invalid IPv6 address" : "has no IP address (host names are not resolved for listening)");
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (!is_decimal(port_text) || ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return bad("has no port from 1 to 65535");
  }
  return listen_address::inet(host_text, static_cast<std::uint16_t>(port));
}

result<std::int64_t> parse_duration_ms(std::string_view text) {
  std::size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  const std::string_view number = text.substr(0, digits);
  const std::string_view unit = text.substr(digits);
  if (number.empty()) {
    return make_error(errc::invalid_config,
                      quote_text(text) + " is not a duration (a whole number and a unit, e.g. \"30s\")");
  }
  std::int64_t scale = 0;
  if (unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60'000;
  } else if (unit == "h") {
    scale = 3'600'000;
  } else if (unit == "d") {
    scale = 86'400'000;
  } else {
    return make_error(
        errc::invalid_config,
        quote_text(text) + (unit.empty() ? " has no unit" : " has an unknown unit") + " (use ms, s, m, h or d)");
  }
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  if (ec != std::errc{} || n > std::numeric_limits<std::int64_t>::max() / scale) {
    return make_error(errc::invalid_config, quote_text(text) + " is too long a duration");
  }
  return n * scale;
}

std::string format_duration(std::int64_t ms) {
  constexpr std::pair<std::int64_t, const char*> units[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
  if (ms > 0) {
    for (const auto& [scale, name] : units) {
      if (ms % scale == 0) {
        return std::to_string(ms / scale) + name;
      }
    }
  }
  return std::to_string(ms) + "ms";
}

std::string_view fallback_action_name(fallback_action a) noexcept {
  switch (a) {
    case fallback_action::accept:
      return "accept";
    case fallback_action::tempfail:
      return "tempfail";
  }
  return "accept";
}

std::string_view clock_source_name(clock_source c) noexcept {
  switch (c) {
    case clock_source::system:
      return "system";
    case clock_source::api:
      return "api";
  }
  return "system";
}

std::string_view tag_mode_name(tag_mode t) noexcept {
  switch (t) {
    case tag_mode::all:
      return "all";
    case tag_mode::flagged:
      return "flagged";
  }
  return "all";
}

std::string_view log_level_name(log_level l) noexcept {
  switch (l) {
    case log_level::error:
      return "error";
    case log_level::warning:
      return "warning";
    case log_level::info:
      return "info";
    case log_level::debug:
      return "debug";
  }
  return "info";
}

result<loaded_config> load_string(std::string_view text, std::string_view origin, const std::string& base_dir) {
  return load_text(text, origin, base_dir);
}

result<loaded_config> load_file(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    return make_error(errc::io, path + ": cannot read: " + ec.message());
  }
  if (size > max_config_bytes) {
    return make_error(errc::invalid_config, path + ": larger than " + std::to_string(max_config_bytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) {
    return make_error(errc::io, path + ": cannot read");
  }
  const std::string base = std::filesystem::absolute(path, ec).parent_path().string();
  return load_text(text.str(), path, base);
}

std::string describe_options() {
  const auto& reg = settings_registry();
  const settings defaults{};
  std::string out =
      "# portwarden.toml reference\n\n"
      "Generated from the option registry in src/config/config.cpp (`describe_options()`); "
      "`config_test` checks this file is current (`PW_UPDATE_DOCS=1` rewrites it). "
      "etc/portwarden.toml is a commented example.\n\n"
      "Unknown keys are errors. Durations are a whole number and a unit: `ms`, `s`, `m`, `h`, `d` "
      "(\"250ms\", \"30s\", \"10m\", \"2h\", \"7d\"). Relative paths are relative to the directory of the "
      "configuration file. `portwarden config check` reports every problem as `file:line:column: message`.\n";
  for (const auto& [section, help] : reg.sections) {
    out += "\n## [" + section + "]\n\n" + help + "\n";
    for (const auto& o : reg.options) {
      if (parent_of(o.key) != section) {
        continue;
      }
      out += "\n### `" + o.key + "`\n\n" + o.type;
      if (auto text = o.show(defaults)) {
        out += " — default " + (o.describe_elements ? *text : "`" + *text + "`");
      }
      out += "\n\n" + o.help + "\n";
      if (o.describe_elements) {
        o.describe_elements(o.key, out);
      }
    }
  }
  return out;
}

std::string to_toml(const settings& s) {
  const auto& reg = settings_registry();
  std::string out;
  for (const auto& [section, help] : reg.sections) {
    out += (out.empty() ? "[" : "\n[") + section + "]\n";
    for (const auto& o : reg.options) {
      if (parent_of(o.key) != section || o.write_elements) {
        continue;
      }
      if (auto text = o.show(s)) {
        out += std::string(leaf_of(o.key)) + " = " + *text + "\n";
      }
    }
    for (const auto& o : reg.options) {
      if (parent_of(o.key) == section && o.write_elements) {
        o.write_elements(s, o.key, out);
      }
    }
  }
  return out;
}

result<std::shared_ptr<const identity::cidr_directory>> load_directory(const settings& s) {
  // The file and the inline entries are one table (a key listed twice is an error): inline entries
  // are parsed as extra lines after the file's own.
  if (s.subscribers.file.empty()) {
    auto built = identity::cidr_directory::build(s.subscribers.entries);
    if (!built) {
      return built.error();
    }
    return std::make_shared<const identity::cidr_directory>(std::move(*built));
  }
  std::ifstream in(s.subscribers.file, std::ios::binary);
  if (!in) {
    return make_error(errc::io, "cannot read subscriber file " + s.subscribers.file);
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string all = text.str();
  for (const auto& e : s.subscribers.entries) {
    all += "\n" + e.key + "\t" + e.id + "\t" + e.plan + (e.contact.empty() ? "" : "\t" + e.contact);
  }
  auto merged = identity::cidr_directory::parse(all, s.subscribers.file);
  if (!merged) {
    return merged.error();
  }
  return std::make_shared<const identity::cidr_directory>(std::move(*merged));
}

std::vector<desk_plan_settings> desk_settings::default_desk_plans() {
  desk_plan_settings residential{"residential", {}};
  residential.rules.port25_open_by_default = false;
  residential.rules.self_service = true;
  desk_plan_settings business{"business", {}};
  business.rules.port25_open_by_default = true;
  desk_plan_settings bulk{"bulk", {}};
  bulk.rules.port25_open_by_default = true;
  return {residential, business, bulk};
}

std::string desk_ledger_path(const settings& s) {
  if (!s.desk.ledger.empty()) {
    return s.desk.ledger;
  }
  return (std::filesystem::path(s.store.path).parent_path() / "desk.db").string();
}

desk::exemption_plan_rules desk_rules_for(const desk_settings& d, std::string_view plan) {
  for (const auto& p : d.plans) {
    if (p.name == plan) {
      return p.rules;
    }
  }
  desk::exemption_plan_rules none;
  none.port25_open_by_default = false;
  none.self_service = false;
  return none;
}

std::string read_deployment_secret(const privacy_settings& p) {
  static constexpr std::string_view built_in_secret = "portwarden-default-recipient-hash-key-set-privacy.secret_file";
  if (p.secret_file.empty()) {
    return std::string(built_in_secret);
  }
  std::ifstream in(p.secret_file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace pw::config
