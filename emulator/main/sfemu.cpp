// sfemu: a Salesforce API emulator. (Minimal entry point; the server lands with the emulator issue.)
#include <CLI/CLI.hpp>

#include <iostream>

int main(int argc, char** argv) {
  CLI::App app{"sfemu: a local Salesforce org (REST, SOQL, OAuth, Bulk 2.0) for development and tests"};
  int port = 8443;
  app.add_option("--port", port, "TCP port to listen on (0 picks a free one)");
  CLI11_PARSE(app, argc, argv);
  std::cerr << "sfemu: the HTTP server is not built yet\n";
  return 1;
}
