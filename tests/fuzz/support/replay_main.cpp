// A stand-in for libFuzzer's driver: runs LLVMFuzzerTestOneInput once on every file
// named on the command line (directories are walked, sorted by name).
//
// With it the fuzz targets build with any compiler (gcc, no -fsanitize=fuzzer), so
// ctest replays the seed corpora and the crash reproducers kept there on every
// test run, including the sanitizer build. Real fuzzing needs clang and
// -DSWITCHBOARD_FUZZ=ON (scripts/fuzz.sh).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool run_file(const std::filesystem::path& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    return false;
  }
  // Exactly the file's bytes in their own allocation, so ASan sees reads past the end.
  std::vector<std::uint8_t> input;
  std::uint8_t buffer[4096];
  std::size_t got = 0;
  while ((got = std::fread(buffer, 1, sizeof buffer, file)) > 0)
    input.insert(input.end(), buffer, buffer + got);
  std::fclose(file);
  const std::unique_ptr<std::uint8_t[]> exact(
      new std::uint8_t[input.size() + (input.empty() ? 1 : 0)]);
  std::copy(input.begin(), input.end(), exact.get());
  LLVMFuzzerTestOneInput(exact.get(), input.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
    } else {
      files.push_back(arg);
    }
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s FILE_OR_DIR...  (no input found)\n", argv[0]);
    return 2;
  }
  std::size_t ran = 0;
  for (const auto& file : files) {
    if (!run_file(file)) return 1;
    ++ran;
  }
  std::printf("replayed %zu inputs\n", ran);
  return 0;
}
