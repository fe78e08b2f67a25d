#pragma once
// The page of `bnlab audit --html`: one row per layer of an audit report
// (schema bnlab.audit/1, src/bnlab/audit/audit.hpp), its findings and advice,
// and bars for the eval/train gap and the batch mean's standard error, each
// drawn against its finding's threshold (read from the report's findings).
#include <string>

#include <nlohmann/json.hpp>

namespace bnlab::html {

std::string render_audit_html(const nlohmann::ordered_json& report);

}  // namespace bnlab::html
