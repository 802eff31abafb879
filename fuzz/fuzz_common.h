#pragma once
// Scratch files for the fuzz targets (fuzz/fuzz_targets.h): the loaders take paths, so each input is written to a
// file first, in a per-process folder laid out like the repository (configs/, configs/sweeps/, workloads/).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#ifndef XPUSIM_SOURCE_DIR
#error "XPUSIM_SOURCE_DIR must name the repository root"
#endif

namespace xpu::fuzz {

// A per-process scratch folder, created once; each input overwrites the same file names in it.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
    std::string templ = (std::filesystem::temp_directory_path() / "xpusim_fuzz_XXXXXX").string();
    if (!mkdtemp(templ.data())) std::abort();
    std::filesystem::path p = templ;
    // Relative references resolve as they do in the repository: a config written to configs/ can `extends:
    // h100.yaml`; a sweep spec in configs/sweeps/ names ../h100.yaml and ../../workloads/llama2-7b.yaml.
    namespace fs = std::filesystem;
    fs::path src = XPUSIM_SOURCE_DIR;
    std::error_code ec;
    fs::create_directories(p / "configs" / "sweeps", ec);
    for (const auto& e : fs::directory_iterator(src / "configs", ec))
      if (e.is_regular_file()) fs::create_symlink(e.path(), p / "configs" / e.path().filename(), ec);
    fs::create_directory_symlink(src / "workloads", p / "workloads", ec);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(scratch_dir(), ec);
    });
    return p;
  }();
  return dir;
}

inline std::string write_input(const std::string& name, const uint8_t* data, size_t size) {
  std::filesystem::path p = scratch_dir() / name;
  std::ofstream(p, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), size);
  return p.string();
}

}  // namespace xpu::fuzz
