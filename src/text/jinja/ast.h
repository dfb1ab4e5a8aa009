// Syntax tree of a parsed template. One node struct per category with a kind
// tag keeps the interpreter a pair of switch statements.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "text/jinja/value.h"

namespace jetlm::jinja {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using StmtList = std::vector<StmtPtr>;

enum class ExprKind {
  Literal,   // value
  Name,      // name
  List,      // args: items
  Tuple,     // args: items
  Dict,      // args: key0, value0, key1, value1, ...
  Attr,      // args[0].name
  Item,      // args[0][args[1]]
  Slice,     // args[0][args[1]:args[2]:args[3]] (null parts omitted)
  Call,      // args[0](args[1..], kwargs)
  Filter,    // args[0] | name(args[1..], kwargs); args[0] null inside {% filter %}
  Test,      // args[0] is [not] name(args[1..], kwargs)
  Unary,     // name: "not", "-", "+"; args[0]
  Binary,    // name: + - * / // % ** ~ and or; args[0], args[1]
  Compare,   // args[0] ops[0] args[1] ops[1] args[2] ... (chained like Python)
  Cond,      // args[0] if args[1] else args[2] (args[2] null: undefined)
};

struct Expr {
  ExprKind kind = ExprKind::Literal;
  int line = 0;
  Value value;
  std::string name;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
  std::vector<std::string> ops;  // Compare: ==, !=, <, <=, >, >=, in, notin
  bool negated = false;          // Test: `is not`
  int depth = 1;                 // height of this subtree (the parser bounds it)
};

enum class StmtKind {
  Data,      // text
  Output,    // {{ expr }}
  If,        // expr; body; else_body (elif chains nest in else_body)
  For,       // targets in expr [if cond]; body; else_body
  Set,       // targets = expr; or ns.attr = expr; or block set (body, filters)
  Macro,     // name(params = defaults); body
  CallBlock, // {% call(params) expr %} body: `caller()` renders body
  FilterBlock,  // filters applied to the rendered body
  With,      // assignments (targets/values) in a new scope; body
  Break,
  Continue,
  Generation,  // transformers' {% generation %} marker: renders its body
};

struct Stmt {
  StmtKind kind = StmtKind::Data;
  int line = 0;
  std::string text;                  // Data text; Macro name; Set attribute (ns.attr)
  ExprPtr expr;                      // Output/If/For/Set value; CallBlock call
  ExprPtr cond;                      // For: loop filter `if cond`; Set: namespace object of ns.attr
  std::vector<std::string> targets;  // For/Set names (several: tuple unpacking)
  std::vector<std::string> params;   // Macro/CallBlock parameter names
  std::vector<ExprPtr> defaults;     // Macro/CallBlock defaults (null: required); With values
  std::vector<ExprPtr> filters;      // FilterBlock/block Set filters (Filter exprs with null input)
  StmtList body, else_body;
};

}  // namespace jetlm::jinja
