#pragma once

// sfemu's SOQL engine: the one header to include.
//
// Design. Three stages, each a pure function of its inputs:
//   1. parse(text)          -> query        syntax only (lexer.hpp + parser.hpp); MALFORMED_QUERY
//   2. bind(query, schema)  -> bound_query  names and types against the org (schema_view, an
//                                           interface the org model implements); INVALID_TYPE,
//                                           INVALID_FIELD with Salesforce's row/column pointer
//   3. matches(bound, record, ctx) / compare_for_order(bound, a, b)
//                                           evaluation over records (record_view, also implemented
//                                           by the org model), with "now" and the org's time zone
//                                           injected through eval_context.
// Binding resolves field paths to handles and converts literals to the field's type once, so
// per-record work is a virtual get() per field read plus a comparison: no lookups, no allocation.
// AND/OR chains are flat (n-ary nodes); recursion happens only through parentheses and NOT and is
// bounded by parse_limits (depth, length, IN list size), so no input can crash, hang or exhaust
// the stack (tests/fuzz/ checks this). See README.md beside this file for the supported subset.
// The engine depends on the standard library only.

#include "emulator/soql/ast.hpp"
#include "emulator/soql/error.hpp"
#include "emulator/soql/eval.hpp"
#include "emulator/soql/parser.hpp"
#include "emulator/soql/schema.hpp"
#include "emulator/soql/value.hpp"
