#pragma once
// A serving run as a Chrome/Perfetto trace (ui.perfetto.dev): a process per replica with its iterations on one track
// (tokens, requests, prefill tokens, decodes in each slice's arguments) and counters of batch size and KV-cache
// occupancy; a process of requests with one async track per request (queued, prefill, decode).
#include <string>

#include "sim/serve/serve_engine.h"

namespace xpu {

void write_serve_trace(const std::string& path, const ServeResult& r);

}  // namespace xpu
