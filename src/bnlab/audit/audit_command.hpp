#pragma once
// `bnlab audit` from its options to its outputs: the outputs checked before
// the dump is read, the audit run, the report handed to stdout, --output,
// --recalibrate (an .npz of recalibrated statistics) and --html through
// experiment/emit.hpp. apps/cmd_audit.cpp only wires the options and passes
// the page renderer.
#include <optional>
#include <string>

#include "bnlab/experiment/emit.hpp"

namespace bnlab::audit {

struct AuditCommand {
  std::string dump;                                          // the dump .npz (scripts/bnlab_dump.py)
  std::optional<std::string> format, output, recalibrate, html;  // --format, --output, --recalibrate, --html
  bool quiet = false;                                        // --quiet: no "wrote" lines
};

// Throws bnlab::Error (one line) for bad input, before any output is written.
void run_audit_command(const AuditCommand& command, const experiment::PageRenderer& page);

}  // namespace bnlab::audit
