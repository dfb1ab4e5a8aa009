#include "text/jinja/interpreter.h"

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "text/jinja/budget.h"
#include "text/jinja/filters.h"
#include "text/jinja/operators.h"
#include "util/error.h"

namespace jetlm::jinja {
namespace {

// An error that already names template and line; outer statements pass it on.
class LocatedError : public Error {
 public:
  using Error::Error;
};

struct Scope : std::enable_shared_from_this<Scope> {
  std::unordered_map<std::string, Value> vars;
  std::shared_ptr<Scope> parent;

  const Value* lookup(const std::string& name) const {
    for (const Scope* s = this; s; s = s->parent.get()) {
      auto it = s->vars.find(name);
      if (it != s->vars.end()) return &it->second;
    }
    return nullptr;
  }
};
using ScopePtr = std::shared_ptr<Scope>;

ScopePtr child_of(const ScopePtr& parent) {
  auto s = std::make_shared<Scope>();
  s->parent = parent;
  return s;
}

uintptr_t frame_address() { return reinterpret_cast<uintptr_t>(__builtin_frame_address(0)); }

enum class Flow { Normal, Break, Continue };

class Interpreter {
 public:
  Interpreter(const ParsedTemplate& t, Budget& budget) : t_(t), budget_(budget) {}

  std::string run(const ScopePtr& root) {
    stack_base_ = frame_address();
    std::string out;
    exec_list(t_.body, root, out);
    return out;
  }

 private:
  Flow exec_list(const StmtList& body, const ScopePtr& sc, std::string& out) {
    for (const StmtPtr& s : body) {
      const Flow f = exec(*s, sc, out);
      if (f != Flow::Normal) return f;
    }
    return Flow::Normal;
  }

  Flow exec(const Stmt& s, const ScopePtr& sc, std::string& out) {
    try {
      return exec_stmt(s, sc, out);
    } catch (const LocatedError&) {
      throw;
    } catch (const Error& e) {
      throw LocatedError(str_cat(t_.name, ":", s.line, ": ", e.what()));
    }
  }

  Flow exec_stmt(const Stmt& s, const ScopePtr& sc, std::string& out) {
    switch (s.kind) {
      case StmtKind::Data:
        append_bounded(out, s.text);
        return Flow::Normal;
      case StmtKind::Output:
        append_bounded(out, eval(*s.expr, sc).str());
        return Flow::Normal;
      case StmtKind::If:
        return exec_list(eval(*s.expr, sc).truthy() ? s.body : s.else_body, sc, out);
      case StmtKind::For:
        return exec_for(s, sc, out);
      case StmtKind::Set:
        exec_set(s, sc);
        return Flow::Normal;
      case StmtKind::Macro: {
        // The lambda holds a raw scope pointer (a shared_ptr would make the scope
        // own itself through its variable); keep_alive_ keeps it valid.
        keep_alive_.push_back(sc);
        Scope* closure = sc.get();
        const Stmt* m = &s;
        sc->vars[s.text] = Value::function(s.text, [this, m, closure](const CallArgs& a) {
          return call_macro(*m, closure->shared_from_this(), a);
        });
        return Flow::Normal;
      }
      case StmtKind::CallBlock:
        append_bounded(out, eval_call(*s.expr, sc, &s).str());
        return Flow::Normal;
      case StmtKind::FilterBlock: {
        std::string body;
        exec_list(s.body, child_of(sc), body);
        append_bounded(out, apply_filters(s.filters, Value(body), sc).str());
        return Flow::Normal;
      }
      case StmtKind::With: {
        ScopePtr inner = child_of(sc);
        for (size_t k = 0; k < s.targets.size(); ++k) inner->vars[s.targets[k]] = eval(*s.defaults[k], sc);
        return exec_list(s.body, inner, out);
      }
      case StmtKind::Break:
        return Flow::Break;
      case StmtKind::Continue:
        return Flow::Continue;
      case StmtKind::Generation:
        return exec_list(s.body, sc, out);
    }
    return Flow::Normal;
  }

  void bind_targets(const std::vector<std::string>& targets, const Value& v, Scope& sc) {
    if (targets.size() == 1) {
      sc.vars[targets[0]] = v;
      return;
    }
    const ValueList parts = iterate(v);
    if (parts.size() < targets.size())
      fail("ValueError: not enough values to unpack (expected ", targets.size(), ", got ", parts.size(), ")");
    if (parts.size() > targets.size()) fail("ValueError: too many values to unpack (expected ", targets.size(), ")");
    for (size_t k = 0; k < targets.size(); ++k) sc.vars[targets[k]] = parts[k];
  }

  Flow exec_for(const Stmt& s, const ScopePtr& sc, std::string& out) {
    ValueList items = iterate(eval(*s.expr, sc));
    if (s.cond) {
      ValueList kept;
      for (const Value& item : items) {
        ScopePtr probe = child_of(sc);
        bind_targets(s.targets, item, *probe);
        if (eval(*s.cond, probe).truthy()) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) return exec_list(s.else_body, child_of(sc), out);
    const int64_t n = static_cast<int64_t>(items.size());
    for (int64_t i = 0; i < n; ++i) {
      budget_.step();
      ScopePtr iter = child_of(sc);
      bind_targets(s.targets, items[static_cast<size_t>(i)], *iter);
      iter->vars["loop"] = loop_object(items, i);
      const Flow f = exec_list(s.body, iter, out);
      if (f == Flow::Break) break;
    }
    return Flow::Normal;
  }

  static Value loop_object(const ValueList& items, int64_t i) {
    const int64_t n = static_cast<int64_t>(items.size());
    Value loop = Value::dict();
    auto& e = loop.mutable_dict().entries;  // distinct keys: append without lookups
    e.reserve(12);
    e.emplace_back(Value("index"), Value(i + 1));
    e.emplace_back(Value("index0"), Value(i));
    e.emplace_back(Value("revindex"), Value(n - i));
    e.emplace_back(Value("revindex0"), Value(n - i - 1));
    e.emplace_back(Value("first"), Value(i == 0));
    e.emplace_back(Value("last"), Value(i == n - 1));
    e.emplace_back(Value("length"), Value(n));
    e.emplace_back(Value("depth"), Value(1));
    e.emplace_back(Value("depth0"), Value(0));
    e.emplace_back(Value("previtem"), i > 0 ? items[static_cast<size_t>(i - 1)] : Value::undefined("there is no previous item"));
    e.emplace_back(Value("nextitem"), i + 1 < n ? items[static_cast<size_t>(i + 1)] : Value::undefined("there is no next item"));
    e.emplace_back(Value("cycle"), Value::function("loop.cycle", [i](const CallArgs& a) {
                     if (a.pos.empty()) fail("TypeError: no items for cycling given");
                     return a.pos[static_cast<size_t>(i) % a.pos.size()];
                   }));
    return loop;
  }

  void exec_set(const Stmt& s, const ScopePtr& sc) {
    Value v;
    if (s.expr) {
      v = eval(*s.expr, sc);
    } else {
      std::string body;
      exec_list(s.body, child_of(sc), body);
      v = apply_filters(s.filters, Value(body), sc);
    }
    if (s.cond) {  // ns.attr = v
      Value ns = eval(*s.cond, sc);
      if (!ns.is_namespace()) fail("cannot assign attribute on non-namespace object");
      ns.mutable_dict().set(Value(s.text), std::move(v));
      return;
    }
    bind_targets(s.targets, v, *sc);
  }

  Value apply_filters(const std::vector<ExprPtr>& filters, Value v, const ScopePtr& sc) {
    for (const ExprPtr& f : filters) v = apply_filter(f->name, v, eval_args(*f, 1, sc));
    return v;
  }

  // Macro recursion is bounded twice: by call depth and by the stack actually
  // used (frame sizes vary with the build). Each call is also a step.
  void check_call_depth() {
    const Limits& lim = budget_.limits();
    // The stack grows down on every target jetlm builds for.
    if (depth_ >= lim.max_call_depth || stack_base_ - frame_address() > lim.max_stack_bytes)
      fail("RecursionError: macro calls nested too deeply (", depth_, " levels)");
    budget_.step();
  }

  Value call_macro(const Stmt& m, const ScopePtr& closure, const CallArgs& a) {
    check_call_depth();
    if (a.pos.size() > m.params.size())
      fail("TypeError: macro '", m.text, "' takes not more than ", m.params.size(), " argument(s)");
    ScopePtr sc = child_of(closure);
    for (const auto& kv : a.kw) {
      bool known = kv.first == "caller";
      for (const auto& p : m.params) known = known || p == kv.first;
      if (!known) fail("TypeError: macro '", m.text, "' takes no keyword argument '", kv.first, "'");
      if (kv.first == "caller") sc->vars["caller"] = kv.second;
    }
    for (size_t k = 0; k < m.params.size(); ++k) {
      if (const Value* v = a.find(k, m.params[k].c_str())) sc->vars[m.params[k]] = *v;
      else if (m.defaults[k]) sc->vars[m.params[k]] = eval(*m.defaults[k], sc);
      else sc->vars[m.params[k]] = Value::undefined("parameter '" + m.params[k] + "' was not provided");
    }
    ++depth_;
    std::string out;
    try {
      exec_list(m.body, sc, out);
    } catch (...) {
      --depth_;
      throw;
    }
    --depth_;
    return Value(out);
  }

  CallArgs eval_args(const Expr& e, size_t first, const ScopePtr& sc) {
    CallArgs a;
    for (size_t k = first; k < e.args.size(); ++k) a.pos.push_back(eval(*e.args[k], sc));
    for (const auto& kv : e.kwargs) a.kw.emplace_back(kv.first, eval(*kv.second, sc));
    return a;
  }

  // callee(args); from a {% call %} block, `caller` renders that block's body.
  Value eval_call(const Expr& e, const ScopePtr& sc, const Stmt* call_block) {
    const Value callee = eval(*e.args[0], sc);
    callee.require_defined();
    if (!callee.is_function()) fail("TypeError: '", callee.type_name(), "' object is not callable");
    CallArgs a = eval_args(e, 1, sc);
    if (call_block) {
      keep_alive_.push_back(sc);
      Scope* outer = sc.get();
      a.kw.emplace_back("caller", Value::function("caller", [this, call_block, outer](const CallArgs& ca) {
                          check_call_depth();
                          ScopePtr inner = child_of(outer->shared_from_this());
                          for (size_t k = 0; k < call_block->params.size(); ++k) {
                            const Value* v = ca.find(k, call_block->params[k].c_str());
                            if (v) inner->vars[call_block->params[k]] = *v;
                            else if (call_block->defaults[k]) inner->vars[call_block->params[k]] = eval(*call_block->defaults[k], inner);
                          }
                          std::string body;
                          exec_list(call_block->body, inner, body);
                          return Value(body);
                        }));
    }
    return callee.function_ref().fn(a);
  }

  Value eval(const Expr& e, const ScopePtr& sc) {
    budget_.tick();
    switch (e.kind) {
      case ExprKind::Literal:
        return e.value;
      case ExprKind::Name: {
        const Value* v = sc->lookup(e.name);
        return v ? *v : Value::undefined("'" + e.name + "' is undefined");
      }
      case ExprKind::List:
      case ExprKind::Tuple: {
        ValueList items;
        for (const ExprPtr& x : e.args) items.push_back(eval(*x, sc));
        return e.kind == ExprKind::List ? Value::list(std::move(items)) : Value::tuple(std::move(items));
      }
      case ExprKind::Dict: {
        Value d = Value::dict();
        for (size_t k = 0; k + 1 < e.args.size(); k += 2) d.mutable_dict().set(eval(*e.args[k], sc), eval(*e.args[k + 1], sc));
        return d;
      }
      case ExprKind::Attr:
        return get_attr(eval(*e.args[0], sc), e.name);
      case ExprKind::Item:
        return get_item(eval(*e.args[0], sc), eval(*e.args[1], sc));
      case ExprKind::Slice: {
        auto part = [&](size_t k) { return e.args[k] ? eval(*e.args[k], sc) : Value::none(); };
        return get_slice(eval(*e.args[0], sc), part(1), part(2), part(3));
      }
      case ExprKind::Call:
        return eval_call(e, sc, nullptr);
      case ExprKind::Filter:
        return apply_filter(e.name, eval(*e.args[0], sc), eval_args(e, 1, sc));
      case ExprKind::Test:
        return Value(apply_test(e.name, eval(*e.args[0], sc), eval_args(e, 1, sc)) != e.negated);
      case ExprKind::Unary: {
        const Value v = eval(*e.args[0], sc);
        if (e.name == "not") return Value(!v.truthy());
        if (e.name == "-") return negate(v);
        v.require_defined();
        if (!v.is_number()) fail("TypeError: bad operand type for unary +: '", v.type_name(), "'");
        return v.is_bool() ? Value(v.as_int()) : v;
      }
      case ExprKind::Binary: {
        const Value a = eval(*e.args[0], sc);
        if (e.name == "and") return a.truthy() ? eval(*e.args[1], sc) : a;
        if (e.name == "or") return a.truthy() ? a : eval(*e.args[1], sc);
        return binary_op(e.name, a, eval(*e.args[1], sc));
      }
      case ExprKind::Compare: {
        Value left = eval(*e.args[0], sc);
        for (size_t k = 0; k < e.ops.size(); ++k) {
          Value right = eval(*e.args[k + 1], sc);
          const std::string& op = e.ops[k];
          bool ok;
          if (op == "==") ok = py_equal(left, right);
          else if (op == "!=") ok = !py_equal(left, right);
          else if (op == "<") ok = py_less(left, right);
          else if (op == ">") ok = py_less(right, left);
          else if (op == "<=") ok = py_less(left, right) || py_equal(left, right);
          else if (op == ">=") ok = py_less(right, left) || py_equal(left, right);
          else if (op == "in") ok = contains(right, left);
          else ok = !contains(right, left);  // notin
          if (!ok) return Value(false);
          left = std::move(right);
        }
        return Value(true);
      }
      case ExprKind::Cond:
        if (eval(*e.args[1], sc).truthy()) return eval(*e.args[0], sc);
        if (e.args[2]) return eval(*e.args[2], sc);
        return Value::undefined(str_cat("the inline if-expression on line ", e.line,
                                        " evaluated to false and no else section was defined."));
    }
    return Value();
  }

  const ParsedTemplate& t_;
  std::vector<ScopePtr> keep_alive_;
  Budget& budget_;
  int depth_ = 0;
  uintptr_t stack_base_ = 0;
};

}  // namespace

Template::Template(const std::string& source, const std::string& name) : parsed_(parse_template(source, name)) {}

std::string Template::render(const Variables& vars, const Limits& limits) const {
  // Declared first, so it outlives every value of the render: its destructor
  // breaks the reference cycles namespaces may have formed.
  Budget budget(limits);
  try {
    auto globals = std::make_shared<Scope>();
    for (auto& kv : default_globals()) globals->vars[kv.first] = kv.second;
    for (const auto& kv : vars) globals->vars[kv.first] = kv.second;
    // Top-level `set` writes into the template's own scope, above the globals.
    ScopePtr root = child_of(globals);
    return Interpreter(parsed_, budget).run(root);
  } catch (const std::bad_alloc&) {
    // The size caps keep real and hostile templates far from this; a machine
    // short of memory still gets an error rather than a crash.
    fail(parsed_.name, ": out of memory while rendering the template");
  } catch (const std::length_error&) {
    fail(parsed_.name, ": out of memory while rendering the template");
  }
}

}  // namespace jetlm::jinja
