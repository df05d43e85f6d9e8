// metrics/svg.hpp — ROC curves of several filters drawn into one standalone SVG document.
//
// Purpose: the chart `portwarden eval` and the peer benchmark write next to their tables, Portwarden
// and its peers on the same axes. What matters for a spam filter is recall at very low ham
// false-positive rates, so the x axis (ham FPR) is logarithmic, from `min_fpr` (default 0.01 %) to
// 100 %; the y axis is spam recall, linear, either 0-100 % or zoomed to the part the curves occupy.
//
// Guarantees: the result is a well-formed, standalone SVG 1.1 document (root <svg> carrying the SVG
// namespace; UTF-8 needs no XML declaration) that renders the same everywhere: no scripts, no
// external references, no locale-dependent number formatting. Every caller-supplied string (title,
// curve names) is escaped; bytes that are not valid UTF-8 or not allowed in XML become U+FFFD, so no
// input can break the document. Each drawable curve is exactly one <path> element (grid and axes use
// <line>/<rect>), with nearly coincident and collinear vertices merged, so a path has at most about
// 2000 vertices however many messages were scored. A tie group holding spam and ham is drawn as the straight
// ROC segment it is (sampled along the log axis, so it appears curved there). Points left of `min_fpr` are
// drawn on the left edge, and recall below the zoomed axis on its bottom edge. Each legend entry shows the
// curve's name (cut to 48 characters plus "...") and its (1-AUC)%; a curve lacking spam or ham has an
// undefined ROC and gets a legend entry reading "n/a" but no path. Curves are coloured from an 8-colour
// palette, dashed from the ninth on.
//
// Ownership: curves are taken by const reference and not retained.
// Thread-safety: pure function.
// Untrusted input: names may come from configuration or peer result files; see escaping above.
// Failure modes: none; out-of-range options are replaced by their defaults (documented per field).
#pragma once

#include <string>
#include <vector>

#include "metrics/roc.hpp"

namespace pw::metrics {

struct named_curve {
  std::string name;  // legend text, e.g. "Portwarden" or a peer's name
  roc_curve curve;
};

enum class recall_axis {
  full,       // 0 % to 100 %
  auto_zoom,  // from the lowest recall any curve reaches at `min_fpr`, rounded down to 10 %
              // (at most 90 %), to 100 %
};

struct svg_options {
  std::string title = "ROC: spam recall against ham false-positive rate";
  int width = 720;        // pixels; values below 320 become 320
  int height = 480;       // pixels; values below 240 become 240
  double min_fpr = 1e-4;  // left edge of the log axis, a fraction; outside (0, 0.1] it becomes 1e-4
  recall_axis recall = recall_axis::auto_zoom;
};

[[nodiscard]] std::string render_roc_svg(const std::vector<named_curve>& curves, const svg_options& options);

}  // namespace pw::metrics
