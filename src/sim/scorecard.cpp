// The scorecard's overall figures and its three renderings (see scorecard.hpp for the definitions).
#include "sim/scorecard.hpp"

#include "common/markup.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <string_view>
#include <utility>

namespace pw::sim {

namespace {

using json = nlohmann::ordered_json;  // keys in field order, so runs diff line by line

// The issue-5 bars the overall lines are checked against.
constexpr std::uint64_t detection_bar_permille = 995;  // detected / actors >= 99.5 %
constexpr double throttled_bar_per_100k_months = 1.0;  // legitimate subscribers throttled
constexpr std::string_view excluded_from_detection_bar = "s6_contacts";
constexpr std::uint64_t self_help_bar_percent = 80;   // issue 6: cases resolved by self-help >= 80 %

constexpr double month_ms = 30.0 * 24 * 3600 * 1000;

// Colour-blind-safe-ish categorical palette, the same as the ROC chart's (metrics/svg.cpp).
constexpr std::array<std::string_view, 8> palette = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                                     "#9467bd", "#8c564b", "#e377c2", "#17becf"};


bool in_detection_bar(const scenario_score& s) { return s.compromised && s.kind != excluded_from_detection_bar; }

// Nearest rank: the smallest sample with at least p % of the samples at or below it.
std::int64_t nearest_rank(const std::vector<std::int64_t>& sorted, std::uint64_t pct) {
  if (sorted.empty()) {
    return 0;
  }
  const std::uint64_t rank = std::max<std::uint64_t>(1, (pct * sorted.size() + 99) / 100);
  return sorted[rank - 1];
}

std::vector<std::int64_t> sorted_copy(const std::vector<std::int64_t>& samples) {
  std::vector<std::int64_t> sorted = samples;
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

void summarise_latency(latency_summary& l) {
  const std::vector<std::int64_t> sorted = sorted_copy(l.samples_ms);
  l.p50_ms = nearest_rank(sorted, 50);
  l.p90_ms = nearest_rank(sorted, 90);
  l.max_ms = sorted.empty() ? 0 : sorted.back();
}

double subscriber_months(std::uint64_t subscribers, std::int64_t duration_ms) {
  if (subscribers == 0 || duration_ms <= 0) {
    return 0;
  }
  return static_cast<double>(subscribers) * static_cast<double>(duration_ms) / month_ms;
}

double per_100k_months(std::uint64_t count, double months) {
  return months > 0 ? static_cast<double>(count) * 100000.0 / months : 0.0;
}

// ---- number formatting (locale-independent) ----

std::string fixed(double value, int decimals) {
  char buf[64];
  char* end = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, decimals).ptr;
  return std::string(buf, end);
}

// Rounded up to 0.01, so a rate printed within a "<=" bar is within it.
std::string rate_text(double rate) { return fixed(std::max(0.0, std::ceil(rate * 100.0 - 1e-9) / 100.0), 2); }

// num/den in percent with one decimal, rounded down in integers, so a share printed at or above a
// ">=" bar (a multiple of 0.1 %) is at or above it; "-" when there is nothing to divide.
std::string share_text(std::uint64_t num, std::uint64_t den) {
  if (den == 0) {
    return "-";
  }
  const std::uint64_t permille = num * 1000 / den;
  return std::to_string(permille / 10) + "." + std::to_string(permille % 10);
}

double share_pct(std::uint64_t num, std::uint64_t den) {
  return den == 0 ? 0.0 : 100.0 * static_cast<double>(num) / static_cast<double>(den);
}

// Simulated durations, two units at most, rounded down: "0s", "850ms", "42s", "3m10s", "2h05m", "3d04h".
std::string duration_text(std::int64_t ms) {
  if (ms < 0) {
    return "-" + duration_text(-ms);
  }
  const auto two = [](std::int64_t v) { return (v < 10 ? "0" : "") + std::to_string(v); };
  const std::int64_t s = ms / 1000;
  if (s == 0) {
    return ms == 0 ? "0s" : std::to_string(ms) + "ms";
  }
  if (s < 60) {
    return std::to_string(s) + "s";
  }
  if (s < 3600) {
    return std::to_string(s / 60) + "m" + two(s % 60) + "s";
  }
  if (s < 86400) {
    return std::to_string(s / 3600) + "h" + two(s % 3600 / 60) + "m";
  }
  return std::to_string(s / 86400) + "d" + two(s % 86400 / 3600) + "h";
}

std::string mib_text(std::uint64_t bytes) { return fixed(static_cast<double>(bytes) / (1024.0 * 1024.0), 1); }

// ---- the bar checks, shared by the text and HTML renderings ----

struct bar_checks {
  bool detection;
  bool throttled;
  bool lost;
  bool self_help;  // met when the desk was not modelled or no case has an outcome yet
};

bar_checks check_bars(const scorecard& card) {
  return {card.compromised_detected * 1000 >= detection_bar_permille * card.compromised_actors,
          card.throttled_per_100k_months <= throttled_bar_per_100k_months, card.legitimate_messages_lost == 0,
          card.desk.final_resolved_self_help * 100 >= self_help_bar_percent * card.desk.final_cases};
}

std::string bars_verdict(const bar_checks& b) {
  std::string missed;
  for (const auto& [ok, name] : {std::pair{b.detection, "detection"}, std::pair{b.throttled, "throttled"},
                                 std::pair{b.lost, "lost"}, std::pair{b.self_help, "self-help"}}) {
    if (!ok) {
      missed += (missed.empty() ? "" : ", ") + std::string(name);
    }
  }
  return missed.empty() ? "all met" : "MISSED: " + missed;
}

std::string bar_line(const scorecard& card) {
  return "detection " + share_text(card.compromised_detected, card.compromised_actors) +
         " % (bar >= " + fixed(detection_bar_permille / 10.0, 1) + " %)  legit held " +
         std::to_string(card.legitimate_held) + "  throttled " + rate_text(card.throttled_per_100k_months) +
         " /100k sub-months (bar <= " + fixed(throttled_bar_per_100k_months, 0) + ")  lost " +
         std::to_string(card.legitimate_messages_lost);
}

std::string mode_text(const run_info& run) {
  return std::string(run.through_postfix ? "through Postfix" : "engine direct") +
         (run.content_blind ? ", content-blind" : ", with content");
}

// ---- text ----

// Plain ASCII for the terminal: one '?' per non-ASCII character or control byte; cut to `width`
// characters with "..." marking the cut.
std::string ascii_cell(std::string_view s, std::size_t width) {
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80 && c < 0xC0) {
      continue;  // a UTF-8 continuation byte: its character already became '?'
    }
    out += c < 0x20 || c >= 0x7F ? '?' : static_cast<char>(c);
  }
  if (out.size() > width) {
    out.resize(width >= 3 ? width - 3 : 0);
    out += std::string(std::min<std::size_t>(width, 3), '.');
  }
  return out;
}

std::string pad_left(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

std::string pad_right(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

constexpr std::size_t kind_width = 28;

std::string text_row(const std::string& kind, const std::vector<std::pair<std::string, std::size_t>>& cells) {
  std::string line = pad_right(kind, kind_width);
  for (const auto& [text, width] : cells) {
    line += " " + pad_left(text, width);
  }
  while (!line.empty() && line.back() == ' ') {
    line.pop_back();
  }
  return line + "\n";
}

// ---- HTML / SVG ----

std::string px(double v) { return fixed(v, 1); }

// The <svg> opening with its accessible name and description (role="img": one picture to a screen
// reader, described by <desc>).
std::string svg_open(const std::string& id, int width, int height, const std::string& title, const std::string& desc) {
  return "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-labelledby=\"" + id + "-title " + id +
         "-desc\" width=\"" + std::to_string(width) + "\" height=\"" + std::to_string(height) + "\" viewBox=\"0 0 " +
         std::to_string(width) + " " + std::to_string(height) +
         "\" font-family=\"sans-serif\" font-size=\"12\">\n<title id=\"" + id + "-title\">" + escape_markup(title) +
         "</title>\n<desc id=\"" + id + "-desc\">" + escape_markup(desc) + "</desc>\n" +
         "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n<text x=\"" + px(width / 2.0) +
         "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" + escape_markup(title) + "</text>\n";
}

std::string line(double x1, double y1, double x2, double y2) {
  return "<line x1=\"" + px(x1) + "\" y1=\"" + px(y1) + "\" x2=\"" + px(x2) + "\" y2=\"" + px(y2) + "\"/>\n";
}

std::string text_at(double x, double y, std::string_view anchor, const std::string& escaped) {
  return "<text x=\"" + px(x) + "\" y=\"" + px(y) + "\" text-anchor=\"" + std::string(anchor) + "\">" + escaped +
         "</text>\n";
}

std::string colour(std::size_t i) { return std::string(palette[i % palette.size()]); }

// Time-to-detect CDF: for each compromised kind, the share of its actors detected within t
// (undetected actors keep the curve below 100 %), on a log time axis between "round" durations.
std::string ttd_cdf_svg(const scorecard& card) {
  constexpr int width = 760;
  constexpr double left = 64;
  constexpr double top = 40;
  constexpr double plot_w = width - left - 24;
  constexpr double plot_h = 280;
  constexpr double legend_row = 18;

  std::vector<const scenario_score*> kinds;
  std::int64_t lo_sample = 0;
  std::int64_t hi_sample = 0;
  bool any = false;
  for (const scenario_score& s : card.scenarios) {
    if (!s.compromised) {
      continue;
    }
    kinds.push_back(&s);
    for (const std::int64_t t : s.time_to_detect.samples_ms) {
      lo_sample = any ? std::min(lo_sample, t) : t;
      hi_sample = any ? std::max(hi_sample, t) : t;
      any = true;
    }
  }
  // Axis ends and ticks at durations a reader recognises; samples below the left end are drawn on it.
  constexpr std::array<std::int64_t, 11> ticks_ms = {
      100,        1000,       10'000,      60'000,          600'000,         3'600'000,
      21'600'000, 86'400'000, 604'800'000, 2'592'000'000LL, 31'536'000'000LL};
  std::size_t lo_i = 1;  // 1 s
  std::size_t hi_i = 7;  // 1 day
  if (any) {
    lo_i = 0;
    while (lo_i + 1 < ticks_ms.size() && ticks_ms[lo_i + 1] <= lo_sample) {
      ++lo_i;
    }
    hi_i = lo_i + 1;
    while (hi_i + 1 < ticks_ms.size() && ticks_ms[hi_i] < hi_sample) {
      ++hi_i;
    }
  }
  const double log_lo = std::log10(static_cast<double>(ticks_ms[lo_i]));
  const double log_hi = std::log10(static_cast<double>(ticks_ms[hi_i]));
  const auto x_of = [&](std::int64_t t) {
    const double l = std::log10(static_cast<double>(std::max(t, ticks_ms[lo_i])));
    return left + plot_w * std::min(1.0, (l - log_lo) / (log_hi - log_lo));
  };
  const auto y_of = [&](double share) { return top + plot_h * (1.0 - std::clamp(share, 0.0, 1.0)); };
  const double bottom = top + plot_h;
  const double right = left + plot_w;
  const double legend_top = bottom + 52;
  const int height =
      static_cast<int>(legend_top + legend_row * static_cast<double>(std::max<std::size_t>(kinds.size(), 1)) + 8);

  std::string desc = "Share of each compromised kind's actors detected within a simulated time, log time axis.";
  for (const scenario_score* s : kinds) {
    desc += " " + s->title + ": " + std::to_string(s->detected) + " of " + std::to_string(s->actors) +
            " detected, p50 " + duration_text(s->time_to_detect.p50_ms) + ", p90 " +
            duration_text(s->time_to_detect.p90_ms) + ", max " + duration_text(s->time_to_detect.max_ms) + ".";
  }
  std::string svg = svg_open("ttd-cdf", width, height, "Time to detect (CDF per compromised kind)", desc);

  std::string grid;
  std::string labels;
  for (std::size_t i = lo_i; i <= hi_i; ++i) {
    const double x = x_of(ticks_ms[i]);
    grid += line(x, top, x, bottom);
    labels += text_at(x, bottom + 16, "middle", duration_text(ticks_ms[i]));
  }
  for (int pct = 0; pct <= 100; pct += 20) {
    const double y = y_of(pct / 100.0);
    grid += line(left, y, right, y);
    labels += text_at(left - 6, y + 4, "end", std::to_string(pct) + "%");
  }
  svg += "<g stroke=\"#ccc\" stroke-width=\"1\">\n" + grid + "</g>\n";
  svg += "<g fill=\"#333\" font-size=\"11\">\n" + labels + "</g>\n";
  svg += "<rect x=\"" + px(left) + "\" y=\"" + px(top) + "\" width=\"" + px(plot_w) + "\" height=\"" + px(plot_h) +
         "\" fill=\"none\" stroke=\"#333\"/>\n";
  svg += text_at(left + plot_w / 2, bottom + 36, "middle",
                 "Simulated time from the first compromised message (log scale)");
  svg += "<text transform=\"translate(16 " + px(top + plot_h / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">Actors detected</text>\n";

  svg += "<g fill=\"none\" stroke-width=\"1.5\" stroke-linejoin=\"round\">\n";
  std::string legend;
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    const scenario_score& s = *kinds[k];
    const std::string dash = k >= palette.size() ? " stroke-dasharray=\"6 3\"" : "";
    const double ly = legend_top + legend_row * static_cast<double>(k);
    legend += "<line x1=\"" + px(left) + "\" y1=\"" + px(ly - 4) + "\" x2=\"" + px(left + 24) + "\" y2=\"" +
              px(ly - 4) + "\" stroke=\"" + colour(k) + "\" stroke-width=\"2\"" + dash + "/>\n";
    legend += text_at(left + 30, ly, "start",
                      escape_markup(s.title, 48) + " (" + std::to_string(s.detected) + " of " +
                          std::to_string(s.actors) + " detected)");
    if (s.actors == 0 || s.time_to_detect.samples_ms.empty()) {
      continue;
    }
    // A step function; samples falling in the same half-pixel column become one step, which bounds
    // the vertex count by the plot width however many actors there are.
    const std::vector<std::int64_t> sorted = sorted_copy(s.time_to_detect.samples_ms);
    const double n = static_cast<double>(s.actors);
    std::string points = px(left) + "," + px(y_of(0));
    double last_share = 0;
    for (std::size_t i = 0; i < sorted.size();) {
      const double col = std::round(x_of(sorted[i]) * 2.0) / 2.0;
      std::size_t j = i;
      while (j < sorted.size() && std::round(x_of(sorted[j]) * 2.0) / 2.0 == col) {
        ++j;
      }
      const double share = static_cast<double>(j) / n;
      points += " " + px(col) + "," + px(y_of(last_share)) + " " + px(col) + "," + px(y_of(share));
      last_share = share;
      i = j;
    }
    points += " " + px(right) + "," + px(y_of(last_share));
    svg += "<polyline stroke=\"" + colour(k) + "\"" + dash + " points=\"" + points + "\"/>\n";
  }
  svg += "</g>\n";
  if (kinds.empty()) {
    legend += text_at(left, legend_top, "start", "No compromised kinds in this run.");
  }
  svg += "<g fill=\"#333\">\n" + legend + "</g>\n</svg>\n";
  return svg;
}

struct bar_row {
  std::string label;               // raw, escaped when drawn
  std::vector<double> values;      // one per series, in axis units
  std::vector<std::string> texts;  // printed at the bar ends
};

// Horizontal grouped bars: one group per row (label on the left), one bar per series, a linear axis
// from 0 to `axis_max` with five ticks, the legend under the title.
std::string grouped_bars_svg(const std::string& id, const std::string& title, const std::string& desc,
                             const std::string& axis_title, const std::vector<std::string>& series,
                             const std::vector<bar_row>& rows, double axis_max, int tick_decimals,
                             const std::string& tick_suffix, const std::string& empty_note) {
  constexpr int width = 760;
  constexpr double left = 220;
  constexpr double plot_w = width - left - 80;
  constexpr double top = 64;
  constexpr double bar_h = 14;
  constexpr double bar_gap = 2;
  constexpr double group_gap = 14;
  const double group_h = static_cast<double>(series.size()) * (bar_h + bar_gap) - bar_gap;
  const double plot_h = rows.empty() ? 40 : static_cast<double>(rows.size()) * (group_h + group_gap) + group_gap;
  const double bottom = top + plot_h;
  const int height = static_cast<int>(bottom + 52);
  const auto x_of = [&](double v) { return left + plot_w * std::clamp(v / axis_max, 0.0, 1.0); };

  std::string svg = svg_open(id, width, height, title, desc);
  double lx = left;
  for (std::size_t s = 0; s < series.size(); ++s) {
    svg += "<rect x=\"" + px(lx) + "\" y=\"36\" width=\"12\" height=\"12\" fill=\"" + colour(s) + "\"/>\n";
    svg += text_at(lx + 16, 46, "start", escape_markup(series[s]));
    lx += 28 + 7.0 * static_cast<double>(series[s].size());
  }
  std::string grid;
  std::string labels;
  for (int i = 0; i <= 5; ++i) {
    const double v = axis_max * i / 5.0;
    const double x = x_of(v);
    grid += line(x, top, x, bottom);
    labels += text_at(x, bottom + 16, "middle", fixed(v, tick_decimals) + escape_markup(tick_suffix));
  }
  svg += "<g stroke=\"#ccc\" stroke-width=\"1\">\n" + grid + "</g>\n";
  svg += "<g fill=\"#333\" font-size=\"11\">\n" + labels + "</g>\n";
  svg += text_at(left + plot_w / 2, bottom + 36, "middle", escape_markup(axis_title));
  std::string bars;
  std::string texts;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const double gy = top + group_gap + static_cast<double>(r) * (group_h + group_gap);
    texts += text_at(left - 8, gy + group_h / 2 + 4, "end", escape_markup(rows[r].label, 30));
    for (std::size_t s = 0; s < series.size() && s < rows[r].values.size(); ++s) {
      const double y = gy + static_cast<double>(s) * (bar_h + bar_gap);
      const double x = x_of(rows[r].values[s]);
      bars += "<rect x=\"" + px(left) + "\" y=\"" + px(y) + "\" width=\"" + px(x - left) + "\" height=\"" + px(bar_h) +
              "\" fill=\"" + colour(s) + "\"/>\n";
      if (s < rows[r].texts.size()) {
        texts += "<text x=\"" + px(x + 4) + "\" y=\"" + px(y + bar_h - 3) + "\" font-size=\"11\">" +
                 escape_markup(rows[r].texts[s]) + "</text>\n";
      }
    }
  }
  if (rows.empty()) {
    texts += text_at(left, top + 24, "start", escape_markup(empty_note));
  }
  svg += "<g>\n" + bars + "</g>\n<g fill=\"#333\">\n" + texts + "</g>\n";
  svg += "<line x1=\"" + px(left) + "\" y1=\"" + px(top) + "\" x2=\"" + px(left) + "\" y2=\"" + px(bottom) +
         "\" stroke=\"#333\"/>\n</svg>\n";
  return svg;
}

std::string detection_bars_svg(const scorecard& card) {
  std::vector<bar_row> rows;
  std::string desc = "Share of each compromised kind's actors detected and contained.";
  for (const scenario_score& s : card.scenarios) {
    if (!s.compromised) {
      continue;
    }
    rows.push_back({s.title,
                    {share_pct(s.detected, s.actors), share_pct(s.contained, s.actors)},
                    {share_text(s.detected, s.actors) + " %", share_text(s.contained, s.actors) + " %"}});
    desc += " " + s.title + ": detected " + rows.back().texts[0] + ", contained " + rows.back().texts[1] + ".";
  }
  return grouped_bars_svg("detection-bars", "Detected and contained, per compromised kind", desc,
                          "Share of the kind's actors", {"detected", "contained"}, rows, 100.0, 0, "%",
                          "No compromised kinds in this run.");
}

// Per kind, the rate is over that kind's own subscriber-months, so small kinds are not flattered.
std::string false_positive_bars_svg(const scorecard& card) {
  std::vector<bar_row> rows;
  std::string desc = "Legitimate subscribers tagged, throttled and held, per 100,000 subscriber-months of each kind.";
  double highest = 0;
  for (const scenario_score& s : card.scenarios) {
    if (s.compromised) {
      continue;
    }
    const double months = subscriber_months(s.actors, card.run.duration_ms);
    bar_row row{
        s.title,
        {per_100k_months(s.tagged, months), per_100k_months(s.throttled, months), per_100k_months(s.held, months)},
        {}};
    for (const double v : row.values) {
      row.texts.push_back(rate_text(v));
      highest = std::max(highest, v);
    }
    desc += " " + s.title + ": tagged " + row.texts[0] + ", throttled " + row.texts[1] + ", held " + row.texts[2] + ".";
    rows.push_back(std::move(row));
  }
  // Axis end: the next 1, 2 or 5 times a power of ten, at least 1 (the throttle bar).
  double axis_max = 1;
  while (axis_max < highest) {
    const double decade = std::pow(10.0, std::floor(std::log10(axis_max) + 1e-9));
    const double lead = axis_max / decade;
    axis_max = (lead < 1.5 ? 2 : lead < 3.5 ? 5 : 10) * decade;
  }
  const int tick_decimals = std::max(0, static_cast<int>(-std::floor(std::log10(axis_max / 5.0) + 1e-9)));
  return grouped_bars_svg("false-positive-bars", "Legitimate subscribers: tagged, throttled, held", desc,
                          "Subscribers per 100,000 subscriber-months", {"tagged", "throttled", "held"}, rows, axis_max,
                          tick_decimals, "", "No legitimate kinds in this run.");
}

std::string html_row(const std::vector<std::string>& cells) {
  std::string row = "<tr><th scope=\"row\">" + cells.front() + "</th>";
  for (std::size_t i = 1; i < cells.size(); ++i) {
    row += "<td>" + cells[i] + "</td>";
  }
  return row + "</tr>\n";
}

std::string html_head_row(const std::vector<std::string>& cells) {
  std::string row = "<tr>";
  for (const std::string& c : cells) {
    row += "<th scope=\"col\">" + c + "</th>";
  }
  return row + "</tr>\n";
}

// ---- table rows shared by text and HTML (cells unescaped) ----

const std::vector<std::string> compromised_header = {"kind",    "actors",  "detected",         "contained",  "TTD p50",
                                                     "TTD p90", "TTD max", "spam before hold", "worst actor"};

std::vector<std::string> compromised_cells(const scenario_score& s) {
  return {s.title,
          std::to_string(s.actors),
          share_text(s.detected, s.actors) + " %",
          share_text(s.contained, s.actors) + " %",
          duration_text(s.time_to_detect.p50_ms),
          duration_text(s.time_to_detect.p90_ms),
          duration_text(s.time_to_detect.max_ms),
          std::to_string(s.spam_relayed_before_containment),
          std::to_string(s.max_spam_relayed_before_containment)};
}

const std::vector<std::string> legitimate_header = {"kind", "actors",       "tagged",    "throttled",
                                                    "held", "delayed msgs", "max delay", "lost"};

std::vector<std::string> legitimate_cells(const scenario_score& s) {
  return {s.title,
          std::to_string(s.actors),
          std::to_string(s.tagged),
          std::to_string(s.throttled),
          std::to_string(s.held),
          std::to_string(s.messages_delayed),
          duration_text(s.max_delay_ms),
          std::to_string(s.messages_lost)};
}

// The two tables' rows, compromised kinds and legitimate kinds, in the card's order.
std::pair<std::vector<std::vector<std::string>>, std::vector<std::vector<std::string>>> table_rows(
    const scorecard& card) {
  std::pair<std::vector<std::vector<std::string>>, std::vector<std::vector<std::string>>> rows;
  for (const scenario_score& s : card.scenarios) {
    if (s.compromised) {
      rows.first.push_back(compromised_cells(s));
    } else {
      rows.second.push_back(legitimate_cells(s));
    }
  }
  return rows;
}

std::string text_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (std::size_t c = 1; c < header.size(); ++c) {
    std::size_t w = header[c].size();
    for (const auto& r : rows) {
      w = std::max(w, r[c].size());
    }
    widths.push_back(w);
  }
  const auto row_text = [&](const std::vector<std::string>& r) {
    std::vector<std::pair<std::string, std::size_t>> cells;
    for (std::size_t c = 1; c < r.size(); ++c) {
      cells.emplace_back(r[c], widths[c - 1]);
    }
    return text_row(ascii_cell(r.front(), kind_width), cells);
  };
  std::string out = row_text(header);
  for (const auto& r : rows) {
    out += row_text(r);
  }
  return out;
}

json latency_json(const latency_summary& l) {
  return json{
      {"samples_ms", sorted_copy(l.samples_ms)}, {"p50_ms", l.p50_ms}, {"p90_ms", l.p90_ms}, {"max_ms", l.max_ms}};
}

// ---- the abuse desk, shared by the text and HTML renderings (unescaped, plain ASCII) ----

std::string desk_cases_line(const desk_score& d) {
  return std::to_string(d.cases_opened) + " cases opened (" + std::to_string(d.compromised_cases) +
         " compromised subscribers, " + std::to_string(d.cases_opened - d.compromised_cases) +
         " legitimate): resolved by self-help " + std::to_string(d.resolved_self_help) + " (" +
         std::to_string(d.compromised_resolved_self_help) + " compromised), escalated to a person " +
         std::to_string(d.escalated) + " (" + std::to_string(d.resolved_by_person) + " resolved since), still open " +
         std::to_string(d.open_at_end) + " (" + std::to_string(d.monitoring_at_end) + " in monitoring)";
}

std::string desk_escalations_line(const desk_score& d) {
  return "escalated because: support call " + std::to_string(d.escalated_support_call) + ", repeat self-help " +
         std::to_string(d.escalated_repeat) + ", re-offence after a resolved case " +
         std::to_string(d.escalated_reoffence) + ", fix did not hold " + std::to_string(d.escalated_fix_failed) +
         ", no answer within " + duration_text(d.unanswered_escalation_ms) + " " +
         std::to_string(d.escalated_unanswered) + "; \"I have fixed it\" refused while mail still left " +
         std::to_string(d.fixes_refused);
}

std::string desk_share_line(const desk_score& d) {
  return "self-help " + share_text(d.final_resolved_self_help, d.final_cases) + " % of the " +
         std::to_string(d.final_cases) + " cases opened " + duration_text(d.final_after_ms) +
         " or more before the end, whose outcome is final (bar >= " + std::to_string(self_help_bar_percent) + " %)";
}

std::string desk_times_line(const desk_score& d) {
  // "-" when nothing got there: a 0 would read as "at once".
  const auto at = [](const latency_summary& l, std::int64_t ms) {
    return l.samples_ms.empty() ? std::string("-") : duration_text(ms);
  };
  return std::to_string(d.notices_sent) + " notices sent; case opened to first notice p50 " +
         at(d.open_to_first_notice, d.open_to_first_notice.p50_ms) + " (max " +
         at(d.open_to_first_notice, d.open_to_first_notice.max_ms) + "); opened to resolved p50 " +
         at(d.time_to_resolution, d.time_to_resolution.p50_ms) + " (p90 " +
         at(d.time_to_resolution, d.time_to_resolution.p90_ms) + ")";
}

}  // namespace

void summarise(scorecard& card) {
  card.compromised_actors = 0;
  card.compromised_detected = 0;
  card.legitimate_subscribers = 0;
  card.legitimate_held = 0;
  card.legitimate_throttled = 0;
  card.legitimate_messages_delayed = 0;
  card.legitimate_max_delay_ms = 0;
  card.legitimate_messages_lost = 0;
  std::uint64_t legitimate_tagged = 0;
  for (scenario_score& s : card.scenarios) {
    summarise_latency(s.time_to_detect);
    summarise_latency(s.time_to_contain);
    if (in_detection_bar(s)) {
      card.compromised_actors += s.actors;
      card.compromised_detected += s.detected;
    } else if (!s.compromised) {
      card.legitimate_subscribers += s.actors;
      legitimate_tagged += s.tagged;
      card.legitimate_throttled += s.throttled;
      card.legitimate_held += s.held;
      card.legitimate_messages_delayed += s.messages_delayed;
      card.legitimate_max_delay_ms = std::max(card.legitimate_max_delay_ms, s.max_delay_ms);
      card.legitimate_messages_lost += s.messages_lost;
    }
  }
  card.detection_rate = card.compromised_actors == 0 ? 1.0
                                                     : static_cast<double>(card.compromised_detected) /
                                                           static_cast<double>(card.compromised_actors);
  const double months = subscriber_months(card.run.subscribers, card.run.duration_ms);
  card.tagged_per_100k_months = per_100k_months(legitimate_tagged, months);
  card.throttled_per_100k_months = per_100k_months(card.legitimate_throttled, months);
  card.held_per_100k_months = per_100k_months(card.legitimate_held, months);
  desk_score& d = card.desk;
  summarise_latency(d.open_to_first_notice);
  summarise_latency(d.time_to_resolution);
  d.self_help_share = d.final_cases == 0 ? 0.0
                                          : static_cast<double>(d.final_resolved_self_help) /
                                                static_cast<double>(d.final_cases);
}

std::string render_text(const scorecard& card) {
  const run_info& run = card.run;
  std::string out = "Portwarden simulation scorecard\n";
  out += "scenario  " + ascii_cell(run.scenario_name, 60) + " (" + ascii_cell(run.scenario_file, 120) + ")\n";
  out += "run       " + std::to_string(run.subscribers) + " subscribers, " + duration_text(run.duration_ms) +
         " simulated, seed " + std::to_string(run.seed) + ", " + mode_text(run) + "\n";
  out += "traffic   " + std::to_string(run.messages) + " messages, " + std::to_string(run.recipients) + " recipients";
  // Through Postfix the daemon holds the engine and tracker; their sizes are its, not this run's.
  if (!run.through_postfix) {
    out += ", " + std::to_string(run.engine_subscribers) + " subscribers tracked, peak " +
           std::to_string(run.campaigns_active_peak) + " campaigns active";
  }
  out += "\n";
  out += "cost      wall " + fixed(run.wall_seconds, 1) + " s (setup " + fixed(run.setup_seconds, 1) +
         " s), peak RSS " + mib_text(run.peak_rss_bytes) + " MiB\n";

  const auto [compromised, legitimate] = table_rows(card);
  out += "\nCompromised kinds (TTD: time to detect; spam relayed before containment)\n";
  out += text_table(compromised_header, compromised);
  out += "\nLegitimate kinds (subscribers that reached each level; messages delayed and lost)\n";
  out += text_table(legitimate_header, legitimate);

  out += "\nOverall (detection bar over every compromised kind except " + std::string(excluded_from_detection_bar) +
         ": " + std::to_string(card.compromised_detected) + " of " + std::to_string(card.compromised_actors) +
         " actors)\n";
  out += bar_line(card) + "\n";
  out += "legitimate " + std::to_string(card.legitimate_subscribers) + " subscribers: tagged " +
         rate_text(card.tagged_per_100k_months) + ", held " + rate_text(card.held_per_100k_months) +
         " /100k sub-months; " + std::to_string(card.legitimate_messages_delayed) + " messages delayed (max " +
         duration_text(card.legitimate_max_delay_ms) + ")\n";
  out += "\nAbuse desk (simulated time; self-help: resolved without any person)\n";
  if (card.desk.modelled) {
    out += desk_cases_line(card.desk) + "\n" + desk_escalations_line(card.desk) + "\n" + desk_share_line(card.desk) +
           "\n" + desk_times_line(card.desk) + "\n";
  } else {
    out += "not modelled in this run (through Postfix the daemon's own desk handles the cases)\n";
  }
  out += "bars: " + bars_verdict(check_bars(card)) + "\n";
  return out;
}

std::string render_json(const scorecard& card) {
  const run_info& run = card.run;
  json j;
  j["run"] = json{{"scenario_file", run.scenario_file},
                  {"scenario_name", run.scenario_name},
                  {"subscribers", run.subscribers},
                  {"duration_ms", run.duration_ms},
                  {"seed", run.seed},
                  {"through_postfix", run.through_postfix},
                  {"content_blind", run.content_blind},
                  {"wall_seconds", run.wall_seconds},
                  {"setup_seconds", run.setup_seconds},
                  {"peak_rss_bytes", run.peak_rss_bytes},
                  {"engine_subscribers", run.engine_subscribers},
                  {"messages", run.messages},
                  {"recipients", run.recipients},
                  {"campaigns_active_peak", run.campaigns_active_peak}};
  json scenarios = json::array();
  for (const scenario_score& s : card.scenarios) {
    scenarios.push_back(json{{"kind", s.kind},
                             {"title", s.title},
                             {"compromised", s.compromised},
                             {"actors", s.actors},
                             {"messages", s.messages},
                             {"recipients", s.recipients},
                             {"detected", s.detected},
                             {"flagged", s.flagged},
                             {"contained", s.contained},
                             {"time_to_detect", latency_json(s.time_to_detect)},
                             {"time_to_contain", latency_json(s.time_to_contain)},
                             {"spam_relayed_before_containment", s.spam_relayed_before_containment},
                             {"max_spam_relayed_before_containment", s.max_spam_relayed_before_containment},
                             {"spam_relayed", s.spam_relayed},
                             {"spam_held", s.spam_held},
                             {"spam_deferred", s.spam_deferred},
                             {"owner_messages_delayed", s.owner_messages_delayed},
                             {"tagged", s.tagged},
                             {"throttled", s.throttled},
                             {"held", s.held},
                             {"messages_delayed", s.messages_delayed},
                             {"max_delay_ms", s.max_delay_ms},
                             {"messages_lost", s.messages_lost}});
  }
  j["scenarios"] = std::move(scenarios);
  j["overall"] = json{{"compromised_actors", card.compromised_actors},
                      {"compromised_detected", card.compromised_detected},
                      {"detection_rate", card.detection_rate},
                      {"legitimate_subscribers", card.legitimate_subscribers},
                      {"tagged_per_100k_months", card.tagged_per_100k_months},
                      {"throttled_per_100k_months", card.throttled_per_100k_months},
                      {"held_per_100k_months", card.held_per_100k_months},
                      {"legitimate_held", card.legitimate_held},
                      {"legitimate_throttled", card.legitimate_throttled},
                      {"legitimate_messages_delayed", card.legitimate_messages_delayed},
                      {"legitimate_max_delay_ms", card.legitimate_max_delay_ms},
                      {"legitimate_messages_lost", card.legitimate_messages_lost}};
  const desk_score& d = card.desk;
  j["desk"] = json{{"modelled", d.modelled},
                   {"cases_opened", d.cases_opened},
                   {"compromised_cases", d.compromised_cases},
                   {"resolved_self_help", d.resolved_self_help},
                   {"compromised_resolved_self_help", d.compromised_resolved_self_help},
                   {"escalated", d.escalated},
                   {"escalated_support_call", d.escalated_support_call},
                   {"escalated_repeat", d.escalated_repeat},
                   {"escalated_reoffence", d.escalated_reoffence},
                   {"escalated_fix_failed", d.escalated_fix_failed},
                   {"escalated_unanswered", d.escalated_unanswered},
                   {"unanswered_escalation_ms", d.unanswered_escalation_ms},
                   {"resolved_by_person", d.resolved_by_person},
                   {"open_at_end", d.open_at_end},
                   {"monitoring_at_end", d.monitoring_at_end},
                   {"notices_sent", d.notices_sent},
                   {"fixes_refused", d.fixes_refused},
                   {"final_after_ms", d.final_after_ms},
                   {"final_cases", d.final_cases},
                   {"final_resolved_self_help", d.final_resolved_self_help},
                   {"open_to_first_notice", latency_json(d.open_to_first_notice)},
                   {"time_to_resolution", latency_json(d.time_to_resolution)},
                   {"self_help_share", d.self_help_share}};
  // Scenario names come from a file: invalid UTF-8 becomes U+FFFD instead of an exception.
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string render_html(const scorecard& card) {
  const run_info& run = card.run;
  const std::string name = escape_markup(run.scenario_name);
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>Portwarden scorecard: " +
      name +
      "</title>\n<style>\n"
      "body{font-family:sans-serif;margin:2rem auto;max-width:64rem;padding:0 1rem;color:#222;line-height:1.4}\n"
      "table{border-collapse:collapse;margin:0.5rem 0 1.5rem}\n"
      "caption{text-align:left;font-weight:bold;padding:0.25rem 0}\n"
      "th,td{border:1px solid #ccc;padding:0.25rem 0.5rem}\n"
      "td{text-align:right;font-variant-numeric:tabular-nums}\n"
      "thead th{background:#f2f2f2}\n"
      "tbody th{text-align:left;font-weight:normal}\n"
      "dl{display:grid;grid-template-columns:max-content auto;gap:0.2rem 1rem}\n"
      "dt{font-weight:bold}dd{margin:0}\n"
      ".met{color:#1a7f37}.missed{color:#b42318;font-weight:bold}\n"
      "figure{margin:1rem 0}svg{max-width:100%;height:auto}\n"
      "</style>\n</head>\n<body>\n<main>\n<h1>Portwarden simulation scorecard: " +
      name + "</h1>\n";

  html += "<section>\n<h2>Run</h2>\n<dl>\n";
  const auto fact = [&](const std::string& term, const std::string& escaped_value) {
    html += "<dt>" + term + "</dt><dd>" + escaped_value + "</dd>\n";
  };
  fact("Scenario file", escape_markup(run.scenario_file));
  fact("Subscribers", std::to_string(run.subscribers));
  fact("Simulated duration", duration_text(run.duration_ms));
  fact("Seed", std::to_string(run.seed));
  fact("Mode", mode_text(run));
  fact("Traffic", std::to_string(run.messages) + " messages, " + std::to_string(run.recipients) + " recipients");
  fact("Engine", std::to_string(run.engine_subscribers) + " subscribers tracked, peak " +
                     std::to_string(run.campaigns_active_peak) + " campaigns active");
  fact("Wall time", fixed(run.wall_seconds, 1) + " s (setup " + fixed(run.setup_seconds, 1) + " s)");
  fact("Peak RSS", mib_text(run.peak_rss_bytes) + " MiB");
  html += "</dl>\n</section>\n";

  const bar_checks bars = check_bars(card);
  const auto verdict = [](bool ok) {
    return ok ? std::string("<span class=\"met\">met</span>") : std::string("<span class=\"missed\">missed</span>");
  };
  html += "<section>\n<h2>Overall</h2>\n<ul>\n";
  html += "<li>Detection " + share_text(card.compromised_detected, card.compromised_actors) + " % (" +
          std::to_string(card.compromised_detected) + " of " + std::to_string(card.compromised_actors) +
          " compromised actors, every kind except " + std::string(excluded_from_detection_bar) + "; bar &ge; " +
          fixed(detection_bar_permille / 10.0, 1) + " %): " + verdict(bars.detection) + "</li>\n";
  html += "<li>Legitimate subscribers throttled " + rate_text(card.throttled_per_100k_months) +
          " per 100,000 subscriber-months (bar &le; " + fixed(throttled_bar_per_100k_months, 0) +
          "): " + verdict(bars.throttled) + "</li>\n";
  html += "<li>Legitimate messages lost " + std::to_string(card.legitimate_messages_lost) +
          " (bar 0): " + verdict(bars.lost) + "</li>\n";
  html += "<li>Legitimate subscribers held " + std::to_string(card.legitimate_held) + " (" +
          rate_text(card.held_per_100k_months) + " per 100,000 subscriber-months), tagged " +
          rate_text(card.tagged_per_100k_months) + " per 100,000 subscriber-months, of " +
          std::to_string(card.legitimate_subscribers) + "</li>\n";
  html += "<li>Legitimate messages delayed " + std::to_string(card.legitimate_messages_delayed) + " (max delay " +
          duration_text(card.legitimate_max_delay_ms) + ")</li>\n</ul>\n</section>\n";

  html += "<section>\n<h2>Abuse desk</h2>\n";
  if (card.desk.modelled) {
    const desk_score& d = card.desk;
    html += "<ul>\n<li>Cases resolved by self-help (no person involved): " +
            escape_markup(desk_share_line(d)) + ": " + verdict(bars.self_help) + "</li>\n";
    html += "<li>" + escape_markup(desk_cases_line(d)) + "</li>\n";
    html += "<li>" + escape_markup(desk_escalations_line(d)) + "</li>\n";
    html += "<li>" + escape_markup(desk_times_line(d)) + " (simulated time)</li>\n</ul>\n";
  } else {
    html += "<p>Not modelled in this run: through Postfix the daemon's own desk handles the cases.</p>\n";
  }
  html += "</section>\n";

  const auto table = [&](const std::string& caption, const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
    html += "<table>\n<caption>" + caption + "</caption>\n<thead>\n";
    std::vector<std::string> head;
    for (const std::string& h : header) {
      head.push_back(escape_markup(h));
    }
    html += html_head_row(head) + "</thead>\n<tbody>\n";
    for (const auto& r : rows) {
      std::vector<std::string> cells;
      for (const std::string& c : r) {
        cells.push_back(escape_markup(c));
      }
      html += html_row(cells);
    }
    html += "</tbody>\n</table>\n";
  };
  const auto [compromised, legitimate] = table_rows(card);
  html += "<section>\n<h2>Scenario kinds</h2>\n";
  table("Compromised kinds: detection, containment, time to detect (TTD, simulated), spam relayed before hold",
        compromised_header, compromised);
  table("Legitimate kinds: subscribers tagged, throttled, held; messages delayed and lost", legitimate_header,
        legitimate);
  html += "</section>\n<section>\n<h2>Plots</h2>\n";
  html += "<figure>\n" + ttd_cdf_svg(card) +
          "<figcaption>Share of each compromised kind's actors detected (throttle or hold) within a simulated "
          "time; actors never detected keep a curve below 100 %.</figcaption>\n</figure>\n";
  html += "<figure>\n" + detection_bars_svg(card) +
          "<figcaption>Detected: reached throttle or hold. Contained: reached hold.</figcaption>\n</figure>\n";
  html += "<figure>\n" + false_positive_bars_svg(card) +
          "<figcaption>Per kind, over that kind's own subscriber-months (the overall rates above are over all "
          "subscribers of the run).</figcaption>\n</figure>\n";
  html += "</section>\n</main>\n</body>\n</html>\n";
  return html;
}

}  // namespace pw::sim
