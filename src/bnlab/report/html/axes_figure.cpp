// Figure 1, the axes picture (after Wu & He 2018, GroupNorm, Fig. 2): the
// tensor as a box with C across, H x W down and N in depth; the elements that
// share one mean and variance are shaded.
#include <algorithm>
#include <vector>

#include "bnlab/engine/method.hpp"
#include "bnlab/report/html/figures.hpp"
#include "bnlab/report/html/svg.hpp"

namespace bnlab::html {
namespace {

using Json = nlohmann::ordered_json;

constexpr double kPanelWidth = 250, kPanelHeight = 320;
constexpr std::size_t kPanelsPerRow = 4;      // readable at 1280 px: more methods wrap to another row
constexpr double kFace = 120;                 // front face (C x HW), user units
constexpr double kDepthX = 45, kDepthY = 35;  // the N axis recedes up and to the right

// A point of the unit box (x along C, y along H x W downward, z along N into
// the page) in panel coordinates, the front face's top-left corner at (left, top).
struct Projection {
  double left, top;
  std::string at(double x, double y, double z) const {
    return coord(left + x * kFace + z * kDepthX) + "," + coord(top + y * kFace - z * kDepthY);
  }
  std::string quad(double ax, double ay, double az, double bx, double by, double bz, double cx, double cy, double cz,
                   double dx, double dy, double dz) const {
    return at(ax, ay, az) + " " + at(bx, by, bz) + " " + at(cx, cy, cz) + " " + at(dx, dy, dz);
  }
};

// The three visible faces (front, top, right) of the box [x0,x1] x [y0,y1] x [z0,z1].
std::string box(const Projection& p, double x0, double x1, double y0, double y1, double z0, double z1,
                const std::string& style) {
  std::string out;
  out += "<polygon points=\"" + p.quad(x0, y0, z0, x1, y0, z0, x1, y1, z0, x0, y1, z0) + "\" " + style + "/>\n";
  out += "<polygon points=\"" + p.quad(x0, y0, z0, x1, y0, z0, x1, y0, z1, x0, y0, z1) + "\" " + style + "/>\n";
  out += "<polygon points=\"" + p.quad(x1, y0, z0, x1, y0, z1, x1, y1, z1, x1, y1, z0) + "\" " + style + "/>\n";
  return out;
}

// The share of an axis one statistic covers: all of it when reduced over,
// otherwise one slice (drawn no thinner than 1/8 so it stays visible).
double share(bool reduced, std::size_t extent) {
  if (reduced || extent <= 1) return 1.0;
  return 1.0 / double(std::min<std::size_t>(extent, 8));
}

std::string panel(std::size_t index, const std::string& id, const Json& block, const Json& shape) {
  const Method method = parse_method(id, "methods");
  const std::size_t n = shape[0].get<std::size_t>(), c = shape[1].get<std::size_t>();
  const std::size_t s = shape[2].get<std::size_t>() * shape[3].get<std::size_t>();
  const double left = double(index % kPanelsPerRow) * kPanelWidth + 40;
  const double top = double(index / kPanelsPerRow) * kPanelHeight + 70;
  const Projection p{left, top};
  std::string out = "<g class=\"panel\">\n";
  out += text(left + 80, top - 46, method.column, "text-anchor=\"middle\" font-weight=\"bold\" font-size=\"17\"");
  out += box(p, 0, 1, 0, 1, 0, 1, "fill=\"#f2f2f2\" stroke=\"#555\" stroke-width=\"1\"");
  // Channels of one group (gn:G) are a share 1/G of C.
  double c_share = share(method.reduce_c && method.groups == 0, c);
  if (method.groups > 0) c_share = 1.0 / double(std::min<std::size_t>(method.groups, 8));
  const double s_share = share(method.reduce_s, s), n_share = share(method.reduce_n, n);
  const std::string colour = series_colour(index);
  out += box(p, 0, c_share, 0, s_share, 0, n_share,
             "fill=\"" + colour + "\" fill-opacity=\"0.75\" stroke=\"#222\" stroke-width=\"1\"");
  // Axis names on the front face's edges and the depth edge.
  out += text(left + kFace / 2, top + kFace + 16, "C = " + std::to_string(c), "text-anchor=\"middle\"");
  out +=
      text(left - 10, top + kFace / 2, "H·W = " + std::to_string(s),
           "text-anchor=\"middle\" transform=\"rotate(-90 " + coord(left - 10) + " " + coord(top + kFace / 2) + ")\"");
  out += text(left + kFace + kDepthX / 2 + 6, top + kFace - kDepthY / 2 + 14, "N = " + std::to_string(n),
              "text-anchor=\"start\"");
  // The counts for this input.
  double y = top + kFace + 44;
  const auto line = [&](const std::string& label, const Json& value) {
    out += text(left - 25, y, label + ": " + std::to_string(value.get<std::size_t>()), "font-size=\"14\"");
    y += 19;
  };
  line("statistics", block.at("num_statistics"));
  line("values per statistic", block.at("elements_per_statistic"));
  line("gamma/beta values", block.at("num_parameters"));
  std::string over;
  for (const auto& axis : block.at("reduce_axes")) {
    if (!over.empty()) over += ",";
    over += axis.get<std::string>();
  }
  out += text(left - 25, y, "shaded: reduced over " + over, "font-size=\"14\"");
  return out + "</g>\n";
}

}  // namespace

std::string axes_figure(const Json& report) {
  const Json& methods = report.at("methods");
  std::string body;
  std::size_t i = 0;
  for (const auto& [id, block] : methods.items()) body += panel(i++, id, block, report.at("input").at("shape"));
  const std::size_t columns = std::clamp<std::size_t>(i, 1, kPanelsPerRow),
                    rows = std::max<std::size_t>(1, (i + kPanelsPerRow - 1) / kPanelsPerRow);
  return figure("fig-axes", "1. Which values share a mean and variance", double(columns) * kPanelWidth + 30,
                double(rows) * kPanelHeight, body,
                "Each box is the input tensor: C channels across, the H·W locations of a feature map down, the N "
                "samples of the batch in depth. The shaded block is the set of values that one mean and variance "
                "are computed over (its extent along an axis not reduced is one slice, drawn at least 1/8 wide). "
                "Method 3 shades a whole channel through the batch: every location of a feature map is normalized "
                "the same way. Method 1 shades one location across all channels; Method 2 one activation through "
                "the batch only. Below each box: how many statistics this input gives, how many values each pools, "
                "and how many gamma/beta values the method learns.");
}

}  // namespace bnlab::html
