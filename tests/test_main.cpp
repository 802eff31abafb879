// Catch2 provides main(); libsystemc.so also defines main() and calls sc_main, so the binary must have one too.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <systemc>

int main(int argc, char* argv[]) { return Catch::Session().run(argc, argv); }
int sc_main(int, char*[]) { return 0; }
