#pragma once
// Grey-scale image classification data: Fashion-MNIST from Debian's
// dataset-fashion-mnist package, a generated stand-in for tests, and the test
// set variants the experiment evaluates on (translated, on a larger canvas).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "bnlab/core/tensor.hpp"

namespace bnlab::train {

inline constexpr const char* kDefaultFashionMnistDir = "/usr/share/datasets/fashion-mnist";
inline constexpr std::size_t kClasses = 10;

struct Images {
  std::size_t count = 0, height = 0, width = 0;
  std::vector<std::uint8_t> pixels;  // (count, height, width), 0 = background
  std::vector<std::uint8_t> labels;  // (count), each < kClasses
};

struct DataSet {
  Images train, test;
  std::string source;  // the directory, or "stand-in"
};

// The four gzip'ed IDX files train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
// t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz in `dir`. Errors name
// the file and, for a missing one, the Debian package that provides it.
DataSet load_fashion_mnist(const std::string& dir);

// A small learnable stand-in of the same format (28 x 28, 10 classes): class k
// is a bright bar at an angle and position set by k, plus noise. For tests.
DataSet make_stand_in(std::size_t train_count, std::size_t test_count, std::uint64_t seed);

// The first `count` images (all of them when count >= images.count).
Images take(const Images& images, std::size_t count);

// Every image moved by (down, right) pixels; what enters is background (0).
Images translated(const Images& images, int down, int right);

// Every image centred on a size x size background canvas (size >= the image).
Images on_canvas(const Images& images, std::size_t size);

// Pixels as network input, (B, 1, H, W): (p / 255 - kPixelMean) / kPixelStd
// (Fashion-MNIST's training-set mean and standard deviation), for the images
// order[begin], ..., order[end - 1].
inline constexpr double kPixelMean = 0.2860, kPixelStd = 0.3530;
Array<float> batch_input(const Images& images, const std::vector<std::size_t>& order, std::size_t begin,
                         std::size_t end);
std::vector<std::uint8_t> batch_labels(const Images& images, const std::vector<std::size_t>& order,
                                       std::size_t begin, std::size_t end);

}  // namespace bnlab::train
