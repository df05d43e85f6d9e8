#include "metrics/svg.hpp"

#include "common/markup.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace pw::metrics {
namespace {

// Legend rows must fit beside the plot; longer names are cut (the cut is shown as "...").
constexpr std::size_t max_name_chars = 48;

// Colour-blind-safe-ish categorical palette; Portwarden, listed first by convention, gets the blue.
constexpr std::array<std::string_view, 8> palette = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                                     "#9467bd", "#8c564b", "#e377c2", "#17becf"};

// Page layout in pixels: room for the title above, tick labels and axis titles left and below.
constexpr int margin_left = 64;
constexpr int margin_right = 16;
constexpr int margin_top = 40;
constexpr int margin_bottom = 56;

std::size_t count_chars(std::string_view text) {
  // UTF-8 continuation bytes do not start a character.
  return static_cast<std::size_t>(std::count_if(
      text.begin(), text.end(), [](char ch) { return (static_cast<unsigned char>(ch) & 0xC0) != 0x80; }));
}

std::string fixed(double value, int decimals) {
  char buf[64];
  char* end = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed, decimals).ptr;
  return std::string(buf, end);
}

// (1-AUC)% with about three significant digits but never in exponent form, which reads badly in a
// legend: 0.0123, 1.23, 12.30.
std::string format_pct(double pct) {
  if (std::isnan(pct)) {
    return "n/a";
  }
  if (pct <= 0.0) {
    return "0";
  }
  const int magnitude = static_cast<int>(std::floor(std::log10(pct)));
  return fixed(pct, std::clamp(2 - magnitude, 2, 8));
}

// Pixel coordinates in tenths of a pixel: integer arithmetic makes vertex merging exact.
struct vertex {
  long x;
  long y;
};

// Collects a curve's vertices, dropping any closer than `min_step` tenths (Manhattan distance) to the
// last kept one and merging runs of exactly collinear vertices. On a monotone curve inside the plot
// this bounds the vertex count by (plot width + plot height in tenths) / min_step + 2.
class polyline {
 public:
  explicit polyline(long min_step) : _min_step(min_step) {}

  void add(vertex v) {
    if (_kept.empty()) {
      _kept.push_back(v);
      return;
    }
    const vertex& last = _kept.back();
    if (std::labs(v.x - last.x) + std::labs(v.y - last.y) < _min_step) {
      _pending = v;
      _has_pending = true;
      return;
    }
    keep(v);
  }

  // The path must end exactly at the curve's last point even if it was near the previous vertex.
  std::string finish_path() {
    if (_has_pending) {
      keep(_pending);
    }
    std::string d;
    for (std::size_t i = 0; i < _kept.size(); ++i) {
      const vertex& v = _kept[i];
      if (i == 0) {
        d += "M" + tenths(v.x) + " " + tenths(v.y);
      } else if (v.x == _kept[i - 1].x) {
        d += "V" + tenths(v.y);
      } else if (v.y == _kept[i - 1].y) {
        d += "H" + tenths(v.x);
      } else {
        d += "L" + tenths(v.x) + " " + tenths(v.y);
      }
    }
    return d;
  }

 private:
  static std::string tenths(long t) {
    std::string s = std::to_string(t / 10);
    if (t % 10 != 0) {
      s += "." + std::to_string(t % 10);
    }
    return s;
  }

  void keep(vertex v) {
    _has_pending = false;
    if (v.x == _kept.back().x && v.y == _kept.back().y) {
      return;
    }
    if (_kept.size() >= 2) {
      const vertex& a = _kept[_kept.size() - 2];
      const vertex& b = _kept.back();
      const long cross = (b.x - a.x) * (v.y - b.y) - (b.y - a.y) * (v.x - b.x);
      const long dot = (b.x - a.x) * (v.x - b.x) + (b.y - a.y) * (v.y - b.y);
      if (cross == 0 && dot >= 0) {
        _kept.back() = v;
        return;
      }
    }
    _kept.push_back(v);
  }

  long _min_step;
  std::vector<vertex> _kept;
  vertex _pending{0, 0};
  bool _has_pending = false;
};

// Maps (ham FPR, spam recall) into the plot box, clamping to its edges (see the header).
class plot_frame {
 public:
  plot_frame(int width, int height, double min_fpr, double min_recall)
      : _left(margin_left),
        _top(margin_top),
        _width(width - margin_left - margin_right),
        _height(height - margin_top - margin_bottom),
        _log_min_fpr(std::log10(min_fpr)),
        _min_fpr(min_fpr),
        _min_recall(min_recall) {}

  [[nodiscard]] double x(double fpr) const {
    if (!(fpr > _min_fpr)) {
      return _left;
    }
    return _left + _width * (std::log10(std::min(fpr, 1.0)) - _log_min_fpr) / -_log_min_fpr;
  }

  [[nodiscard]] double y(double recall) const {
    const double r = std::clamp(recall, _min_recall, 1.0);
    return _top + _height * (1.0 - (r - _min_recall) / (1.0 - _min_recall));
  }

  [[nodiscard]] vertex at(double fpr, double recall) const {
    return vertex{std::lround(x(fpr) * 10.0), std::lround(y(recall) * 10.0)};
  }

  [[nodiscard]] double left() const { return _left; }
  [[nodiscard]] double top() const { return _top; }
  [[nodiscard]] double width() const { return _width; }
  [[nodiscard]] double height() const { return _height; }
  [[nodiscard]] double min_fpr() const { return _min_fpr; }

 private:
  double _left;
  double _top;
  double _width;
  double _height;
  double _log_min_fpr;
  double _min_fpr;
  double _min_recall;
};

bool drawable(const roc_curve& curve) {
  return curve.n_spam() != 0 && curve.n_ham() != 0;
}

std::string curve_path(const roc_curve& curve, const plot_frame& frame) {
  // Half a pixel, or coarser on very large charts so no path exceeds about 2000 vertices.
  const long min_step = std::max(5L, std::lround((frame.width() + frame.height()) * 10.0 / 2000.0));
  polyline line(min_step);
  const auto& pts = curve.points();
  line.add(frame.at(0.0, 0.0));
  for (std::size_t i = 1; i < pts.size(); ++i) {
    const double fa = curve.fpr(pts[i - 1]);
    const double ta = curve.tpr(pts[i - 1]);
    const double fb = curve.fpr(pts[i]);
    const double tb = curve.tpr(pts[i]);
    const bool diagonal = fb > fa && tb > ta;
    if (!diagonal || fb <= frame.min_fpr()) {
      line.add(frame.at(fb, tb));
      continue;
    }
    // A mixed tie group is a straight segment in linear ROC space; sample it along the log axis so
    // it is drawn where it really lies (the part left of min_fpr runs up the left edge).
    const double f_start = std::max(fa, frame.min_fpr());
    const auto recall_at = [&](double f) { return ta + (tb - ta) * (f - fa) / (fb - fa); };
    line.add(frame.at(f_start, recall_at(f_start)));
    const int steps = std::clamp(static_cast<int>(std::ceil(std::log10(fb / f_start) * 24.0)), 1, 96);
    for (int j = 1; j <= steps; ++j) {
      const double f = j == steps ? fb : f_start * std::pow(fb / f_start, static_cast<double>(j) / steps);
      line.add(frame.at(f, recall_at(f)));
    }
  }
  return line.finish_path();
}

double pick_min_recall(const std::vector<named_curve>& curves, const svg_options& options, double min_fpr) {
  if (options.recall == recall_axis::full) {
    return 0.0;
  }
  double lowest = 1.0;
  for (const named_curve& c : curves) {
    if (drawable(c.curve)) {
      lowest = std::min(lowest, recall_at_fpr(c.curve, min_fpr));
    }
  }
  return std::clamp(std::floor(lowest * 10.0) / 10.0, 0.0, 0.9);
}

// Decade label as a percentage: 1e-4 -> "0.01%", 1 -> "100%".
std::string decade_label(int exponent) {
  const int pct_exponent = exponent + 2;
  return fixed(std::pow(10.0, pct_exponent), std::max(0, -pct_exponent)) + "%";
}

}  // namespace

std::string render_roc_svg(const std::vector<named_curve>& curves, const svg_options& options) {
  const int width = std::max(options.width, 320);
  const int height = std::max(options.height, 240);
  const double min_fpr = options.min_fpr > 0.0 && options.min_fpr <= 0.1 ? options.min_fpr : 1e-4;
  const double min_recall = pick_min_recall(curves, options, min_fpr);
  const plot_frame frame(width, height, min_fpr, min_recall);
  const double right = frame.left() + frame.width();
  const double bottom = frame.top() + frame.height();

  std::string svg;
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(width) + "\" height=\"" +
         std::to_string(height) + "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
         "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  const std::string title = escape_markup(options.title);
  svg += "<title>" + title + "</title>\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  svg += "<text x=\"" + fixed(width / 2.0, 1) + "\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">" +
         title + "</text>\n";

  // Grid: decades of FPR with lighter 2..9 subdivisions; recall in steps that give 5-10 lines.
  std::string grid_minor;
  std::string grid_major;
  std::string labels;
  const int first_decade = static_cast<int>(std::ceil(std::log10(min_fpr) - 1e-9));
  for (int e = first_decade; e <= 0; ++e) {
    const double x = frame.x(std::pow(10.0, e));
    grid_major += "<line x1=\"" + fixed(x, 1) + "\" y1=\"" + fixed(frame.top(), 1) + "\" x2=\"" +
                  fixed(x, 1) + "\" y2=\"" + fixed(bottom, 1) + "\"/>\n";
    labels += "<text x=\"" + fixed(x, 1) + "\" y=\"" + fixed(bottom + 16, 1) + "\" text-anchor=\"middle\">" +
              decade_label(e) + "</text>\n";
    for (int m = 2; m <= 9 && e < 0; ++m) {
      const double xm = frame.x(m * std::pow(10.0, e));
      grid_minor += "<line x1=\"" + fixed(xm, 1) + "\" y1=\"" + fixed(frame.top(), 1) + "\" x2=\"" +
                    fixed(xm, 1) + "\" y2=\"" + fixed(bottom, 1) + "\"/>\n";
    }
  }
  const int min_recall_pct = static_cast<int>(std::lround(min_recall * 100.0));
  const int span_pct = 100 - min_recall_pct;
  const int step_pct = span_pct >= 50 ? 10 : (span_pct >= 20 ? 5 : 2);
  for (int pct = min_recall_pct; pct <= 100; pct += step_pct) {
    const double y = frame.y(pct / 100.0);
    grid_major += "<line x1=\"" + fixed(frame.left(), 1) + "\" y1=\"" + fixed(y, 1) + "\" x2=\"" +
                  fixed(right, 1) + "\" y2=\"" + fixed(y, 1) + "\"/>\n";
    labels += "<text x=\"" + fixed(frame.left() - 6, 1) + "\" y=\"" + fixed(y + 4, 1) +
              "\" text-anchor=\"end\">" + std::to_string(pct) + "%</text>\n";
  }
  svg += "<g stroke=\"#eee\" stroke-width=\"1\">\n" + grid_minor + "</g>\n";
  svg += "<g stroke=\"#ccc\" stroke-width=\"1\">\n" + grid_major + "</g>\n";
  svg += "<g fill=\"#333\" font-size=\"11\">\n" + labels + "</g>\n";
  svg += "<rect x=\"" + fixed(frame.left(), 1) + "\" y=\"" + fixed(frame.top(), 1) + "\" width=\"" +
         fixed(frame.width(), 1) + "\" height=\"" + fixed(frame.height(), 1) +
         "\" fill=\"none\" stroke=\"#333\" stroke-width=\"1\"/>\n";
  svg += "<text x=\"" + fixed(frame.left() + frame.width() / 2.0, 1) + "\" y=\"" + fixed(height - 12.0, 1) +
         "\" text-anchor=\"middle\">Ham false-positive rate (log scale)</text>\n";
  svg += "<text transform=\"translate(16 " + fixed(frame.top() + frame.height() / 2.0, 1) +
         ") rotate(-90)\" text-anchor=\"middle\">Spam recall</text>\n";

  // Curves, then the legend on top of them in the lower right, the region a ROC curve leaves empty.
  svg += "<g fill=\"none\" stroke-width=\"1.5\" stroke-linejoin=\"round\">\n";
  std::vector<std::string> legend_texts;
  std::size_t widest = 0;
  for (std::size_t i = 0; i < curves.size(); ++i) {
    const std::string colour(palette[i % palette.size()]);
    const std::string dash = i >= palette.size() ? " stroke-dasharray=\"6 3\"" : "";
    if (drawable(curves[i].curve)) {
      svg +=
          "<path stroke=\"" + colour + "\"" + dash + " d=\"" + curve_path(curves[i].curve, frame) + "\"/>\n";
    }
    const std::string plain_suffix = "  (1-AUC)% = " + format_pct((1.0 - auc(curves[i].curve)) * 100.0);
    const std::string name = escape_markup(curves[i].name, max_name_chars);
    // Entities count as one character on screen; estimate width from the unescaped length.
    widest =
        std::max(widest, std::min(count_chars(curves[i].name), max_name_chars + 3) + plain_suffix.size());
    legend_texts.push_back(name + plain_suffix);
  }
  svg += "</g>\n";

  if (!curves.empty()) {
    constexpr double row_height = 18.0;
    constexpr double char_width = 7.0;  // generous average for 12 px sans-serif
    const double legend_w = std::min(40.0 + char_width * static_cast<double>(widest), frame.width() - 16.0);
    const double legend_h = 8.0 + row_height * static_cast<double>(curves.size());
    const double lx = right - 8.0 - legend_w;
    const double ly = std::max(frame.top() + 8.0, bottom - 8.0 - legend_h);
    svg += "<g>\n<rect x=\"" + fixed(lx, 1) + "\" y=\"" + fixed(ly, 1) + "\" width=\"" + fixed(legend_w, 1) +
           "\" height=\"" + fixed(legend_h, 1) + "\" fill=\"#fff\" fill-opacity=\"0.9\" stroke=\"#999\"/>\n";
    for (std::size_t i = 0; i < curves.size(); ++i) {
      const double row_y = ly + 4.0 + row_height * (static_cast<double>(i) + 0.5);
      const std::string dash = i >= palette.size() ? " stroke-dasharray=\"6 3\"" : "";
      svg += "<line x1=\"" + fixed(lx + 8, 1) + "\" y1=\"" + fixed(row_y, 1) + "\" x2=\"" +
             fixed(lx + 32, 1) + "\" y2=\"" + fixed(row_y, 1) + "\" stroke=\"" +
             std::string(palette[i % palette.size()]) + "\"" + dash + " stroke-width=\"2\"/>\n";
      svg += "<text x=\"" + fixed(lx + 38, 1) + "\" y=\"" + fixed(row_y + 4, 1) + "\">" + legend_texts[i] +
             "</text>\n";
    }
    svg += "</g>\n";
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace pw::metrics
