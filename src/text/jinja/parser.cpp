#include "text/jinja/parser.h"

#include <algorithm>
#include <initializer_list>

#include "text/jinja/filters.h"
#include "text/jinja/lexer.h"
#include "util/error.h"

namespace jetlm::jinja {
namespace {

// Templates come from model files, so nesting is bounded: deep trees recurse
// in the parser, the interpreter and the destructors, and must not be able to
// overflow the stack. Real templates nest a handful of levels.
constexpr int kMaxNesting = 200;

class Parser {
 public:
  Parser(std::vector<Token> toks, std::string name) : toks_(std::move(toks)), name_(std::move(name)) {}

  StmtList parse_all() {
    StmtList body = parse_body({});
    if (cur().kind != TokKind::Eof) error(cur().line, "unexpected tag");
    return body;
  }

 private:
  // ---- token helpers -------------------------------------------------------
  const Token& cur() const { return toks_[i_]; }
  const Token& peek(size_t k = 1) const { return toks_[std::min(i_ + k, toks_.size() - 1)]; }
  void next() {
    if (i_ + 1 < toks_.size()) ++i_;
  }
  bool is_op(const char* op) const { return cur().kind == TokKind::Op && cur().text == op; }
  bool is_name(const char* n) const { return cur().kind == TokKind::Name && cur().text == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    next();
    return true;
  }
  bool skip_name(const char* n) {
    if (!is_name(n)) return false;
    next();
    return true;
  }

  [[noreturn]] void error(int line, const std::string& msg) const { fail(name_, ":", line, ": syntax error: ", msg); }

  std::string describe(const Token& t) const {
    if (t.kind == TokKind::Op || t.kind == TokKind::Name) return "'" + t.text + "'";
    return tok_kind_name(t.kind);
  }

  void expect_op(const char* op) {
    if (!skip_op(op)) error(cur().line, str_cat("expected '", op, "', got ", describe(cur())));
  }
  void expect_block_end() {
    if (cur().kind != TokKind::BlockEnd) error(cur().line, str_cat("expected end of statement block, got ", describe(cur())));
    next();
  }
  std::string expect_name() {
    if (cur().kind != TokKind::Name) error(cur().line, str_cat("expected a name, got ", describe(cur())));
    std::string n = cur().text;
    next();
    return n;
  }

  // Counts recursion of the parser itself (parentheses, `not not ...`, nested tags).
  struct Nest {
    Parser& p;
    explicit Nest(Parser& parser) : p(parser) {
      if (++p.nesting_ > kMaxNesting) p.error(p.cur().line, "template nested too deeply");
    }
    ~Nest() { --p.nesting_; }
  };

  // Records the subtree height of a finished node; chains built by loops
  // (a + b + c ..., a.b.c ..., x | f | g ...) are bounded here.
  ExprPtr seal(ExprPtr e) {
    int d = 0;
    for (const auto& a : e->args)
      if (a) d = std::max(d, a->depth);
    for (const auto& kv : e->kwargs) d = std::max(d, kv.second->depth);
    e->depth = d + 1;
    if (e->depth > kMaxNesting) error(e->line, "expression nested too deeply");
    return e;
  }

  ExprPtr node(ExprKind kind, int line) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = line;
    return e;
  }

  // ---- statements ----------------------------------------------------------

  // Parses until "{% <one of end_tags>" (left unconsumed) or the end of input.
  StmtList parse_body(std::initializer_list<const char*> end_tags) {
    StmtList body;
    while (cur().kind != TokKind::Eof) {
      const Token& t = cur();
      if (t.kind == TokKind::Data) {
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Data;
        s->line = t.line;
        s->text = t.text;
        body.push_back(std::move(s));
        next();
      } else if (t.kind == TokKind::VarBegin) {
        next();
        auto s = std::make_unique<Stmt>();
        s->kind = StmtKind::Output;
        s->line = t.line;
        s->expr = parse_tuple(true);
        if (cur().kind != TokKind::VarEnd) error(cur().line, str_cat("expected end of print statement, got ", describe(cur())));
        next();
        body.push_back(std::move(s));
      } else if (t.kind == TokKind::BlockBegin) {
        const Token& tag = peek();
        if (tag.kind == TokKind::Name)
          for (const char* e : end_tags)
            if (tag.text == e) return body;
        next();
        body.push_back(parse_statement());
      } else {
        error(t.line, "unexpected " + describe(t));
      }
    }
    if (end_tags.size() != 0) {
      std::string want;
      for (const char* e : end_tags) want += std::string(want.empty() ? "" : " or ") + "'" + e + "'";
      error(cur().line, "unexpected end of template, expected " + want);
    }
    return body;
  }

  // Consumes "{% name %}" where name is the closing tag.
  void end_tag(const char* name) {
    next();  // {%
    if (!skip_name(name)) error(cur().line, str_cat("expected '", name, "'"));
    expect_block_end();
  }

  StmtPtr parse_statement() {
    const Nest guard(*this);
    const int line = cur().line;
    if (cur().kind != TokKind::Name) error(line, "tag name expected");
    const std::string tag = cur().text;
    next();
    auto s = std::make_unique<Stmt>();
    s->line = line;
    if (tag == "for") return parse_for(std::move(s));
    if (tag == "if") return parse_if(std::move(s));
    if (tag == "set") return parse_set(std::move(s));
    if (tag == "macro") return parse_macro(std::move(s));
    if (tag == "call") return parse_call_block(std::move(s));
    if (tag == "filter") {
      s->kind = StmtKind::FilterBlock;
      parse_filter_chain(s->filters, true);
      expect_block_end();
      s->body = parse_body({"endfilter"});
      end_tag("endfilter");
      return s;
    }
    if (tag == "with") {
      s->kind = StmtKind::With;
      while (cur().kind != TokKind::BlockEnd) {
        if (!s->targets.empty()) expect_op(",");
        s->targets.push_back(expect_name());
        expect_op("=");
        s->defaults.push_back(parse_expression(true));
      }
      expect_block_end();
      s->body = parse_body({"endwith"});
      end_tag("endwith");
      return s;
    }
    if (tag == "break" || tag == "continue") {
      if (loop_depth_ == 0) error(line, "'" + tag + "' outside loop");
      s->kind = tag == "break" ? StmtKind::Break : StmtKind::Continue;
      expect_block_end();
      return s;
    }
    if (tag == "generation") {
      s->kind = StmtKind::Generation;
      expect_block_end();
      s->body = parse_body({"endgeneration"});
      end_tag("endgeneration");
      return s;
    }
    error(line, "encountered unknown tag '" + tag + "'");
  }

  // Names for `for a, b in` / `set a, b =`, optionally parenthesized.
  std::vector<std::string> parse_targets() {
    std::vector<std::string> names;
    const bool paren = skip_op("(");
    do {
      names.push_back(expect_name());
    } while (skip_op(",") && cur().kind == TokKind::Name);
    if (paren) expect_op(")");
    return names;
  }

  StmtPtr parse_for(StmtPtr s) {
    s->kind = StmtKind::For;
    s->targets = parse_targets();
    if (!skip_name("in")) error(cur().line, "expected 'in' in for loop, got " + describe(cur()));
    s->expr = parse_tuple(false, "recursive");
    if (skip_name("if")) s->cond = parse_expression(true);
    if (is_name("recursive")) error(cur().line, "recursive loops are not supported");
    expect_block_end();
    ++loop_depth_;
    s->body = parse_body({"endfor", "else"});
    --loop_depth_;
    if (peek().text == "else") {
      next();
      next();
      expect_block_end();
      s->else_body = parse_body({"endfor"});
    }
    end_tag("endfor");
    return s;
  }

  StmtPtr parse_if(StmtPtr s) {
    const Nest guard(*this);  // elif chains nest
    s->kind = StmtKind::If;
    s->expr = parse_tuple(false);
    expect_block_end();
    s->body = parse_body({"elif", "else", "endif"});
    if (peek().text == "elif") {
      next();  // {%, leaving "elif" as the tag of a nested if
      auto nested = std::make_unique<Stmt>();
      nested->line = cur().line;
      next();
      s->else_body.push_back(parse_if(std::move(nested)));
      return s;  // the nested if consumed endif
    }
    if (peek().text == "else") {
      next();
      next();
      expect_block_end();
      s->else_body = parse_body({"endif"});
    }
    end_tag("endif");
    return s;
  }

  StmtPtr parse_set(StmtPtr s) {
    s->kind = StmtKind::Set;
    if (cur().kind == TokKind::Name && peek().kind == TokKind::Op && peek().text == ".") {
      // namespace attribute: {% set ns.attr = value %}
      s->cond = node(ExprKind::Name, cur().line);
      s->cond->name = expect_name();
      next();
      s->text = expect_name();
    } else {
      s->targets = parse_targets();
    }
    if (skip_op("=")) {
      s->expr = parse_tuple(true);
      expect_block_end();
      return s;
    }
    if (!s->cond && s->targets.size() != 1) error(s->line, "block set takes a single name");
    parse_filter_chain(s->filters, false);
    expect_block_end();
    s->body = parse_body({"endset"});
    end_tag("endset");
    return s;
  }

  void parse_params(Stmt& s) {
    expect_op("(");
    while (!skip_op(")")) {
      if (!s.params.empty()) expect_op(",");
      if (skip_op(")")) break;
      s.params.push_back(expect_name());
      if (skip_op("=")) s.defaults.push_back(parse_expression(true));
      else s.defaults.push_back(nullptr);
    }
  }

  StmtPtr parse_macro(StmtPtr s) {
    s->kind = StmtKind::Macro;
    s->text = expect_name();
    parse_params(*s);
    expect_block_end();
    const int saved = loop_depth_;
    loop_depth_ = 0;
    s->body = parse_body({"endmacro"});
    loop_depth_ = saved;
    end_tag("endmacro");
    return s;
  }

  StmtPtr parse_call_block(StmtPtr s) {
    s->kind = StmtKind::CallBlock;
    if (is_op("(")) parse_params(*s);
    s->expr = parse_expression(true);
    if (s->expr->kind != ExprKind::Call) error(s->line, "expected a call in {% call %}");
    expect_block_end();
    s->body = parse_body({"endcall"});
    end_tag("endcall");
    return s;
  }

  // ---- expressions ---------------------------------------------------------

  // A comma-separated list of expressions becomes a tuple, as in jinja2.
  ExprPtr parse_tuple(bool with_condexpr, const char* extra_end = nullptr, bool explicit_parens = false) {
    const int line = cur().line;
    std::vector<ExprPtr> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      const TokKind k = cur().kind;
      if (k == TokKind::BlockEnd || k == TokKind::VarEnd || is_op(")") || (extra_end && is_name(extra_end))) break;
      items.push_back(with_condexpr ? parse_expression(true) : parse_or());
      if (is_op(",")) is_tuple = true;
      else break;
    }
    if (!is_tuple) {
      if (items.size() == 1) return std::move(items[0]);
      if (!explicit_parens) error(line, "expected an expression, got " + describe(cur()));
    }
    auto t = node(ExprKind::Tuple, line);
    t->args = std::move(items);
    return seal(std::move(t));
  }

  ExprPtr parse_expression(bool with_condexpr) {
    if (!with_condexpr) return parse_or();
    const int line = cur().line;
    ExprPtr e = parse_or();
    while (skip_name("if")) {
      auto c = node(ExprKind::Cond, line);
      ExprPtr cond = parse_or();
      ExprPtr other = skip_name("else") ? parse_expression(true) : nullptr;
      c->args.push_back(std::move(e));
      c->args.push_back(std::move(cond));
      c->args.push_back(std::move(other));
      e = seal(std::move(c));
    }
    return e;
  }

  ExprPtr binary(const std::string& op, ExprPtr a, ExprPtr b, int line) {
    auto e = node(ExprKind::Binary, line);
    e->name = op;
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return seal(std::move(e));
  }

  ExprPtr parse_or() {
    ExprPtr e = parse_and();
    while (is_name("or")) {
      const int line = cur().line;
      next();
      e = binary("or", std::move(e), parse_and(), line);
    }
    return e;
  }

  ExprPtr parse_and() {
    ExprPtr e = parse_not();
    while (is_name("and")) {
      const int line = cur().line;
      next();
      e = binary("and", std::move(e), parse_not(), line);
    }
    return e;
  }

  ExprPtr parse_not() {
    if (is_name("not")) {
      const Nest guard(*this);
      auto e = node(ExprKind::Unary, cur().line);
      next();
      e->name = "not";
      e->args.push_back(parse_not());
      return seal(std::move(e));
    }
    return parse_compare();
  }

  ExprPtr parse_compare() {
    const int line = cur().line;
    ExprPtr first = parse_math1();
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (cur().kind == TokKind::Op && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                        cur().text == "<=" || cur().text == ">" || cur().text == ">=")) {
        op = cur().text;
        next();
      } else if (is_name("in")) {
        op = "in";
        next();
      } else if (is_name("not") && peek().kind == TokKind::Name && peek().text == "in") {
        op = "notin";
        next();
        next();
      } else {
        break;
      }
      if (!cmp) {
        cmp = node(ExprKind::Compare, line);
        cmp->args.push_back(std::move(first));
      }
      cmp->ops.push_back(op);
      cmp->args.push_back(parse_math1());
    }
    return cmp ? seal(std::move(cmp)) : std::move(first);
  }

  ExprPtr parse_math1() {
    ExprPtr e = parse_concat();
    while (is_op("+") || is_op("-")) {
      const std::string op = cur().text;
      const int line = cur().line;
      next();
      e = binary(op, std::move(e), parse_concat(), line);
    }
    return e;
  }

  ExprPtr parse_concat() {
    ExprPtr e = parse_math2();
    while (is_op("~")) {
      const int line = cur().line;
      next();
      e = binary("~", std::move(e), parse_math2(), line);
    }
    return e;
  }

  ExprPtr parse_math2() {
    ExprPtr e = parse_pow();
    while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
      const std::string op = cur().text;
      const int line = cur().line;
      next();
      e = binary(op, std::move(e), parse_pow(), line);
    }
    return e;
  }

  ExprPtr parse_pow() {
    ExprPtr e = parse_unary(true);
    while (is_op("**")) {  // left-associative in jinja2, unlike Python
      const int line = cur().line;
      next();
      e = binary("**", std::move(e), parse_unary(true), line);
    }
    return e;
  }

  ExprPtr parse_unary(bool with_filter) {
    const Nest guard(*this);
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      e = node(ExprKind::Unary, cur().line);
      e->name = cur().text;
      next();
      e->args.push_back(parse_unary(false));
      e = seal(std::move(e));
    } else {
      e = parse_primary();
    }
    e = parse_postfix(std::move(e));
    if (with_filter) e = parse_filter_expr(std::move(e));
    return e;
  }

  ExprPtr parse_primary() {
    const Token& t = cur();
    const int line = t.line;
    if (t.kind == TokKind::Name) {
      auto e = node(ExprKind::Literal, line);
      if (t.text == "true" || t.text == "True") e->value = Value(true);
      else if (t.text == "false" || t.text == "False") e->value = Value(false);
      else if (t.text == "none" || t.text == "None") e->value = Value::none();
      else {
        e->kind = ExprKind::Name;
        e->name = t.text;
      }
      next();
      return e;
    }
    if (t.kind == TokKind::String) {
      std::string s;
      while (cur().kind == TokKind::String) {  // adjacent literals concatenate
        s += cur().text;
        next();
      }
      auto e = node(ExprKind::Literal, line);
      e->value = Value(std::move(s));
      return e;
    }
    if (t.kind == TokKind::Int || t.kind == TokKind::Float) {
      auto e = node(ExprKind::Literal, line);
      e->value = t.kind == TokKind::Int ? Value(t.ival) : Value(t.fval);
      next();
      return e;
    }
    if (skip_op("(")) {
      ExprPtr e = parse_tuple(true, nullptr, true);
      expect_op(")");
      return e;
    }
    if (skip_op("[")) {
      auto e = node(ExprKind::List, line);
      while (!skip_op("]")) {
        if (!e->args.empty()) expect_op(",");
        if (skip_op("]")) break;
        e->args.push_back(parse_expression(true));
      }
      return seal(std::move(e));
    }
    if (skip_op("{")) {
      auto e = node(ExprKind::Dict, line);
      while (!skip_op("}")) {
        if (!e->args.empty()) expect_op(",");
        if (skip_op("}")) break;
        e->args.push_back(parse_expression(true));
        expect_op(":");
        e->args.push_back(parse_expression(true));
      }
      return seal(std::move(e));
    }
    error(line, "unexpected " + describe(t));
  }

  ExprPtr parse_postfix(ExprPtr e) {
    while (true) {
      if (is_op(".")) {
        const int line = cur().line;
        next();
        if (cur().kind == TokKind::Name) {
          auto a = node(ExprKind::Attr, line);
          a->name = cur().text;
          a->args.push_back(std::move(e));
          next();
          e = seal(std::move(a));
        } else if (cur().kind == TokKind::Int) {
          auto a = node(ExprKind::Item, line);
          a->args.push_back(std::move(e));
          auto idx = node(ExprKind::Literal, line);
          idx->value = Value(cur().ival);
          a->args.push_back(std::move(idx));
          next();
          e = seal(std::move(a));
        } else {
          error(line, "expected a name after '.', got " + describe(cur()));
        }
      } else if (is_op("[")) {
        e = parse_subscript(std::move(e));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  ExprPtr parse_subscript(ExprPtr obj) {
    const int line = cur().line;
    next();  // [
    ExprPtr start;
    if (!is_op(":")) {
      start = parse_expression(true);
      if (!is_op(":")) {
        expect_op("]");
        auto e = node(ExprKind::Item, line);
        e->args.push_back(std::move(obj));
        e->args.push_back(std::move(start));
        return seal(std::move(e));
      }
    }
    next();  // first ':'
    ExprPtr stop, step;
    if (!is_op(":") && !is_op("]")) stop = parse_expression(true);
    if (skip_op(":") && !is_op("]")) step = parse_expression(true);
    expect_op("]");
    auto e = node(ExprKind::Slice, line);
    e->args.push_back(std::move(obj));
    e->args.push_back(std::move(start));
    e->args.push_back(std::move(stop));
    e->args.push_back(std::move(step));
    return seal(std::move(e));
  }

  // "(a, b, key=c)" into target->args (after any already there) and kwargs.
  void parse_call_args(Expr& target) {
    expect_op("(");
    bool first = true;
    while (!skip_op(")")) {
      if (!first) {
        expect_op(",");
        if (skip_op(")")) break;
      }
      first = false;
      if (is_op("*") || is_op("**")) error(cur().line, "*args and **kwargs in calls are not supported");
      if (cur().kind == TokKind::Name && peek().kind == TokKind::Op && peek().text == "=") {
        std::string key = cur().text;
        next();
        next();
        target.kwargs.emplace_back(std::move(key), parse_expression(true));
      } else {
        if (!target.kwargs.empty()) error(cur().line, "positional argument after keyword argument");
        target.args.push_back(parse_expression(true));
      }
    }
  }

  ExprPtr parse_call(ExprPtr callee) {
    auto e = node(ExprKind::Call, cur().line);
    e->args.push_back(std::move(callee));
    parse_call_args(*e);
    return seal(std::move(e));
  }

  std::string parse_dotted_name() {
    std::string n = expect_name();
    while (is_op(".") && peek().kind == TokKind::Name) {
      next();
      n += "." + expect_name();
    }
    return n;
  }

  // "| f1(args) | f2" after a value, or "f1 | f2" opening {% filter %}.
  void parse_filter_chain(std::vector<ExprPtr>& out, bool start_inline) {
    while (start_inline || is_op("|")) {
      if (!start_inline) next();
      start_inline = false;
      out.push_back(parse_filter(nullptr));
    }
  }

  ExprPtr parse_filter(ExprPtr input) {
    auto f = node(ExprKind::Filter, cur().line);
    f->name = parse_dotted_name();
    if (!has_filter(f->name)) error(f->line, "no filter named '" + f->name + "'");
    f->args.push_back(std::move(input));
    if (is_op("(")) parse_call_args(*f);
    return seal(std::move(f));
  }

  ExprPtr parse_filter_expr(ExprPtr e) {
    while (true) {
      if (skip_op("|")) {
        e = parse_filter(std::move(e));
      } else if (is_name("is")) {
        const int line = cur().line;
        next();
        auto t = node(ExprKind::Test, line);
        t->negated = skip_name("not");
        t->name = parse_dotted_name();
        if (!has_test(t->name)) error(line, "no test named '" + t->name + "'");
        t->args.push_back(std::move(e));
        const TokKind k = cur().kind;
        if (is_op("(")) {
          parse_call_args(*t);
        } else if ((k == TokKind::Name || k == TokKind::String || k == TokKind::Int || k == TokKind::Float ||
                    is_op("[") || is_op("{")) &&
                   !is_name("else") && !is_name("or") && !is_name("and")) {
          // `x is divisibleby 3`: one argument without parentheses.
          if (is_name("is")) error(cur().line, "you cannot chain multiple tests with is");
          t->args.push_back(parse_postfix(parse_primary()));
        }
        e = seal(std::move(t));
      } else if (is_op("(")) {
        e = parse_call(std::move(e));
      } else {
        return e;
      }
    }
  }

  std::vector<Token> toks_;
  std::string name_;
  size_t i_ = 0;
  int loop_depth_ = 0;
  int nesting_ = 0;
};

}  // namespace

ParsedTemplate parse_template(const std::string& source, const std::string& name) {
  ParsedTemplate t;
  t.name = name;
  t.body = Parser(tokenize(source, name), name).parse_all();
  return t;
}

}  // namespace jetlm::jinja
