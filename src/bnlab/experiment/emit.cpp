#include "bnlab/experiment/emit.hpp"

#include <iostream>

#include "bnlab/core/escape.hpp"
#include "bnlab/io/atomic_file.hpp"

namespace bnlab::experiment {

std::string json_document(const nlohmann::ordered_json& report) {
  return report.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

void report_written(const std::string& path, bool quiet) {
  if (!quiet) std::cerr << "bnlab: wrote " << escape_control(path) << "\n";
}

void emit(const Emission& e) {
  // The document is dumped only where it goes: a file, or stdout without a table.
  if (e.output) write_file_atomically(*e.output, json_document(e.report));
  for (const OwnFile& file : e.own_files) file.write(file.path);
  if (e.html) write_file_atomically(*e.html, e.page(e.report));
  if (e.table) std::cout << e.table_text() << std::flush;
  else if (!e.output) std::cout << json_document(e.report) << std::flush;
  if (e.output) report_written(*e.output, e.quiet);
  for (const OwnFile& file : e.own_files) report_written(file.path, e.quiet);
  if (e.html) report_written(*e.html, e.quiet);
}

}  // namespace bnlab::experiment
