// Converts Debian's dataset-fashion-mnist (IDX files, gzip) into the PaddleX classification layout:
//   <out>/images/{train,val}_NNNNN.png, label.txt, train.txt, val.txt
// usage: fashion_mnist_to_paddlex <src dir> <out dir> [train count] [val count]
// The first N training and first M test images are taken (the files are already shuffled), so the
// subset is deterministic.
#include <zlib.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> read_gz(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open '" + path + "' (is dataset-fashion-mnist installed?)");
  std::vector<uint8_t> data;
  uint8_t buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) data.insert(data.end(), buf, buf + n);
  gzclose(f);
  if (n < 0) throw std::runtime_error("'" + path + "' is not a valid gzip file");
  return data;
}

uint32_t be32(const std::vector<uint8_t>& d, size_t off) {
  return (uint32_t(d[off]) << 24) | (uint32_t(d[off + 1]) << 16) | (uint32_t(d[off + 2]) << 8) | d[off + 3];
}

void convert(const std::string& images_gz, const std::string& labels_gz, const std::string& prefix, size_t limit,
             const fs::path& out, std::ofstream& list) {
  auto images = read_gz(images_gz), labels = read_gz(labels_gz);
  if (images.size() < 16 || be32(images, 0) != 2051 || labels.size() < 8 || be32(labels, 0) != 2049)
    throw std::runtime_error("unexpected IDX header in '" + images_gz + "' or '" + labels_gz + "'");
  const size_t count = std::min<size_t>(be32(images, 4), limit), rows = be32(images, 8), cols = be32(images, 12);
  for (size_t i = 0; i < count; ++i) {
    cv::Mat img(static_cast<int>(rows), static_cast<int>(cols), CV_8UC1, images.data() + 16 + i * rows * cols);
    char name[64];
    std::snprintf(name, sizeof(name), "images/%s_%05zu.png", prefix.c_str(), i);
    if (!cv::imwrite((out / name).string(), img)) throw std::runtime_error("cannot write " + (out / name).string());
    list << name << " " << int(labels[8 + i]) << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: " << argv[0] << " <fashion-mnist dir> <out dir> [train count=60000] [val count=10000]\n";
    return 2;
  }
  try {
    const fs::path src = argv[1], out = argv[2];
    const size_t n_train = argc > 3 ? std::stoul(argv[3]) : 60000, n_val = argc > 4 ? std::stoul(argv[4]) : 10000;
    fs::create_directories(out / "images");
    const char* names[] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                           "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    std::ofstream label(out / "label.txt"), train(out / "train.txt"), val(out / "val.txt");
    for (int i = 0; i < 10; ++i) label << i << " " << names[i] << "\n";
    convert((src / "train-images-idx3-ubyte.gz").string(), (src / "train-labels-idx1-ubyte.gz").string(), "train",
            n_train, out, train);
    convert((src / "t10k-images-idx3-ubyte.gz").string(), (src / "t10k-labels-idx1-ubyte.gz").string(), "val", n_val,
            out, val);
    std::cout << "wrote " << out.string() << " (" << n_train << " train, " << n_val << " val images)\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
