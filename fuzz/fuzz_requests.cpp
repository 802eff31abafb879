// libFuzzer entry point; see fuzz/fuzz_targets.h for what one input goes through.
#include "fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  xpu::fuzz::requests(data, size);
  return 0;
}
