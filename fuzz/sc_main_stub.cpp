// libsystemc.so references sc_main; xpusim's sim/cli/main.cpp defines it, but the fuzzers do not link main.cpp.
extern "C" int sc_main(int, char*[]) { return 0; }
