#include "bnlab/train/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "bnlab/core/error.hpp"
#include "bnlab/core/rng.hpp"
#include "bnlab/io/idx.hpp"

namespace bnlab::train {
namespace {

const char* kPackageHint = "Debian's dataset-fashion-mnist package provides it: apt-get install dataset-fashion-mnist, "
                           "or give --data DIR with the four Fashion-MNIST files";

Images load_split(const std::string& dir, const std::string& prefix) {
  const std::string image_path = (std::filesystem::path(dir) / (prefix + "-images-idx3-ubyte.gz")).string();
  const std::string label_path = (std::filesystem::path(dir) / (prefix + "-labels-idx1-ubyte.gz")).string();
  IdxArray images = read_idx(image_path, 3, kPackageHint);
  IdxArray labels = read_idx(label_path, 1, kPackageHint);
  if (labels.shape[0] != images.shape[0]) {
    throw Error(label_path + ": " + std::to_string(labels.shape[0]) + " labels for " +
                std::to_string(images.shape[0]) + " images in " + image_path);
  }
  for (std::size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] >= kClasses) {
      throw Error(label_path + ": label " + std::to_string(i) + " is " + std::to_string(labels.data[i]) +
                  ", expected 0 to 9");
    }
  }
  Images out;
  out.count = images.shape[0];
  out.height = images.shape[1];
  out.width = images.shape[2];
  out.pixels = std::move(images.data);
  out.labels = std::move(labels.data);
  return out;
}

Images generated(std::size_t count, Rng& rng) {
  Images out{count, 28, 28, std::vector<std::uint8_t>(count * 28 * 28), std::vector<std::uint8_t>(count)};
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t label = rng.below(kClasses);
    out.labels[i] = std::uint8_t(label);
    // A bar through (cy, cx) at angle label * 18 degrees, 3 pixels thick.
    // (det_cos_turns: the same bits on every machine.)
    const double turns = double(label) * 0.05;
    const double cy = 14.0 + 4.0 * (rng.uniform() - 0.5), cx = 14.0 + 4.0 * (rng.uniform() - 0.5);
    const double dy = det_cos_turns(turns - 0.25), dx = det_cos_turns(turns);
    for (std::size_t r = 0; r < 28; ++r) {
      for (std::size_t c = 0; c < 28; ++c) {
        const double distance = std::abs((double(r) - cy) * dx - (double(c) - cx) * dy);
        const double along = std::abs((double(r) - cy) * dy + (double(c) - cx) * dx);
        double value = (distance < 1.5 && along < 6.0 + double(label % 3) * 2.0) ? 200.0 : 0.0;
        value += 40.0 * rng.uniform();
        out.pixels[(i * 28 + r) * 28 + c] = std::uint8_t(std::min(value, 255.0));
      }
    }
  }
  return out;
}

}  // namespace

DataSet load_fashion_mnist(const std::string& dir) {
  DataSet data{load_split(dir, "train"), load_split(dir, "t10k"), dir};
  if (data.train.height != data.test.height || data.train.width != data.test.width) {
    throw Error(dir + ": training and test images differ in size");
  }
  return data;
}

DataSet make_stand_in(std::size_t train_count, std::size_t test_count, std::uint64_t seed) {
  Rng rng(seed);
  DataSet data;
  data.train = generated(train_count, rng);
  data.test = generated(test_count, rng);
  data.source = "stand-in";
  return data;
}

Images take(const Images& images, std::size_t count) {
  Images out;  // copies only the images taken
  out.count = std::min(count, images.count);
  out.height = images.height;
  out.width = images.width;
  out.pixels.assign(images.pixels.begin(), images.pixels.begin() + std::ptrdiff_t(out.count * images.height * images.width));
  out.labels.assign(images.labels.begin(), images.labels.begin() + std::ptrdiff_t(out.count));
  return out;
}

Images translated(const Images& images, int down, int right) {
  Images out = images;
  std::fill(out.pixels.begin(), out.pixels.end(), std::uint8_t{0});
  const long h = long(images.height), w = long(images.width);
  for (std::size_t i = 0; i < images.count; ++i) {
    const std::uint8_t* in = images.pixels.data() + i * images.height * images.width;
    std::uint8_t* to = out.pixels.data() + i * images.height * images.width;
    for (long r = 0; r < h; ++r) {
      for (long c = 0; c < w; ++c) {
        const long sr = r - down, sc = c - right;
        if (sr >= 0 && sr < h && sc >= 0 && sc < w) to[r * w + c] = in[sr * w + sc];
      }
    }
  }
  return out;
}

Images on_canvas(const Images& images, std::size_t size) {
  if (size < images.height || size < images.width) throw Error("canvas: " + std::to_string(size) + "x" + std::to_string(size) + " is smaller than the " +
                std::to_string(images.height) + "x" + std::to_string(images.width) + " images");
  Images out{images.count, size, size, std::vector<std::uint8_t>(images.count * size * size, 0), images.labels};
  const std::size_t top = (size - images.height) / 2, left = (size - images.width) / 2;
  for (std::size_t i = 0; i < images.count; ++i) {
    for (std::size_t r = 0; r < images.height; ++r) {
      const std::uint8_t* in = images.pixels.data() + (i * images.height + r) * images.width;
      std::copy(in, in + images.width, out.pixels.data() + (i * size + top + r) * size + left);
    }
  }
  return out;
}

Array<float> batch_input(const Images& images, const std::vector<std::size_t>& order, std::size_t begin,
                         std::size_t end) {
  const std::size_t plane = images.height * images.width;
  auto x = Array<float>::from_shape({end - begin, 1, images.height, images.width});  // (B, 1, H, W)
  for (std::size_t b = begin; b < end; ++b) {
    const std::uint8_t* in = images.pixels.data() + order[b] * plane;
    float* out = x.data() + (b - begin) * plane;
    for (std::size_t s = 0; s < plane; ++s) out[s] = float((double(in[s]) / 255.0 - kPixelMean) / kPixelStd);
  }
  return x;
}

std::vector<std::uint8_t> batch_labels(const Images& images, const std::vector<std::size_t>& order,
                                       std::size_t begin, std::size_t end) {
  std::vector<std::uint8_t> labels;
  for (std::size_t b = begin; b < end; ++b) labels.push_back(images.labels[order[b]]);
  return labels;
}

}  // namespace bnlab::train
