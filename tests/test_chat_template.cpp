// Chat templates: the real templates' reference renderings byte for byte
// (library and CLI), and the interpreter's features on small templates whose
// expected output was produced by Python jinja2 with transformers' settings.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>

#include "gguf_builder.h"
#include "test_util.h"
#include "text/chat_template.h"
#include "text/jinja/interpreter.h"
#include "util/error.h"

using jetlm::jinja::Template;
using jetlm::jinja::Value;
using jetlm::jinja::Variables;
using json = nlohmann::ordered_json;

namespace {

// Renders `tmpl` with the variables of a JSON object (keys keep their order).
std::string render(const std::string& tmpl, const std::string& context = "{}") {
  Variables vars;
  const json ctx = json::parse(context);
  for (auto it = ctx.begin(); it != ctx.end(); ++it) vars.emplace_back(it.key(), Value::from_json(it.value()));
  return Template(tmpl, "test").render(vars);
}

// The message of the Error that rendering throws ("" when it does not throw).
std::string render_error(const std::string& tmpl, const std::string& context = "{}") {
  try {
    render(tmpl, context);
  } catch (const jetlm::Error& e) {
    return e.what();
  }
  return "";
}

std::string write_temp(const std::string& name, const std::string& text) {
  const std::string path = jetlm_test::temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

const char* const kMessages = R"({"messages": [
  {"role": "system", "content": "sys"},
  {"role": "user", "content": "u1"},
  {"role": "assistant", "content": "a1"},
  {"role": "user", "content": "u2"}]})";

}  // namespace

// ---- reference renderings of real templates ---------------------------------

TEST(ChatTemplateGolden, EveryCaseByteForByte) {
  const json cases = json::parse(jetlm_test::read_text(jetlm_test::data_path("templates/templates.json")))["cases"];
  ASSERT_EQ(cases.size(), 48u);
  int errors = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c["template"].get<std::string>() + " / " + c["conversation"].get<std::string>() +
                 (c["add_generation_prompt"].get<bool>() ? " / gp" : ""));
    const std::string tmpl = jetlm_test::read_text(jetlm_test::data_path("templates/" + c["template"].get<std::string>()));
    jetlm::ChatTemplateInputs in;
    in.bos_token = c["bos_token"];
    in.eos_token = c["eos_token"];
    in.add_generation_prompt = c["add_generation_prompt"];
    if (c.contains("error")) {
      ++errors;
      try {
        jetlm::render_chat_template(tmpl, c["messages"], in);
        ADD_FAILURE() << "expected an error";
      } catch (const jetlm::Error& e) {
        EXPECT_NE(std::string(e.what()).find(c["error"].get<std::string>()), std::string::npos) << e.what();
      }
    } else {
      EXPECT_EQ(jetlm::render_chat_template(tmpl, c["messages"], in), c["expected"].get<std::string>());
    }
  }
  EXPECT_EQ(errors, 2);
}

TEST(ChatTemplateGolden, CommandLine) {
  const json cases = json::parse(jetlm_test::read_text(jetlm_test::data_path("templates/templates.json")))["cases"];
  for (const auto& c : cases) {
    SCOPED_TRACE(c["template"].get<std::string>() + " / " + c["conversation"].get<std::string>());
    const std::string messages = write_temp("messages.json", c["messages"].dump());
    std::vector<std::string> args = {"template", "--template", jetlm_test::data_path("templates/" + c["template"].get<std::string>()),
                                     "--bos", c["bos_token"], "--eos", c["eos_token"], "--messages", messages};
    if (!c["add_generation_prompt"].get<bool>()) args.push_back("--no-generation-prompt");
    const auto r = jetlm_test::run_jetlm(args);
    if (c.contains("error")) {
      EXPECT_EQ(r.exit_code, 1);
      EXPECT_NE(r.err.find(c["error"].get<std::string>()), std::string::npos) << r.err;
    } else {
      EXPECT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(r.out, c["expected"].get<std::string>());
    }
  }
}

TEST(ChatTemplateCli, FromGgufWithBosEosTokens) {
  jetlm_test::GgufBuilder b;
  b.kv_str("general.architecture", "llama");
  b.kv_str("tokenizer.chat_template", "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{{ eos_token }}{% endfor %}");
  b.kv_str_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
  b.kv_u32("tokenizer.ggml.bos_token_id", 1);
  b.kv_u32("tokenizer.ggml.eos_token_id", 2);
  const auto bytes = b.build();
  const std::string model = jetlm_test::temp_dir() + "/with_template.gguf";
  jetlm_test::write_bytes(model, bytes);
  const std::string messages = write_temp("m.json", R"([{"role": "user", "content": "hi"}])");
  auto r = jetlm_test::run_jetlm({"template", "-m", model, "--messages", messages});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<s>[user]hi</s>");
  r = jetlm_test::run_jetlm({"template", "-m", model, "--bos", "B", "--messages", messages});
  EXPECT_EQ(r.out, "B[user]hi</s>");
}

TEST(ChatTemplateCli, GgufWithoutTemplateFallsBackToChatMl) {
  jetlm_test::GgufBuilder b;
  b.kv_str("general.architecture", "llama");
  const std::string model = jetlm_test::temp_dir() + "/no_template.gguf";
  jetlm_test::write_bytes(model, b.build());
  const std::string messages = write_temp("m2.json", R"([{"role": "user", "content": "hi"}])");
  const auto r = jetlm_test::run_jetlm({"template", "-m", model, "--messages", messages});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_NE(r.err.find("ChatML"), std::string::npos);
}

TEST(ChatTemplateCli, ErrorsExitOneWithTheMessage) {
  const std::string tmpl = write_temp("bad.jinja", "line one\n{% if x %}\n{{ raise_exception('no way: ' ~ x) }}\n{% endif %}");
  const std::string messages = write_temp("m3.json", "[]");
  const std::string extra = write_temp("extra.json", R"({"x": 7})");
  auto r = jetlm_test::run_jetlm({"template", "--template", tmpl, "--messages", messages, "--extra", extra});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.jinja:3: no way: 7"), std::string::npos) << r.err;
  const std::string syntax = write_temp("syntax.jinja", "ok\n\n{% for x in %}{% endfor %}");
  r = jetlm_test::run_jetlm({"template", "--template", syntax, "--messages", messages});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("syntax.jinja:3: syntax error"), std::string::npos) << r.err;
  r = jetlm_test::run_jetlm({"template", "--messages", messages});
  EXPECT_EQ(r.exit_code, 2);
}

// ---- public API ---------------------------------------------------------------

TEST(ChatTemplateApi, JsonOverloadAndChatMl) {
  const nlohmann::json messages = nlohmann::json::parse(R"([{"role": "user", "content": "hi"}])");
  EXPECT_EQ(jetlm::render_chat_template(jetlm::kChatMlTemplate, messages, "", "", true),
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(jetlm::render_chat_template(jetlm::kChatMlTemplate, messages, "", "", false), "<|im_start|>user\nhi<|im_end|>\n");
  EXPECT_EQ(jetlm::render_chat_template("{{ greeting }} {{ bos_token }}{{ eos_token }}", messages, "<s>", "</s>", true,
                                        nlohmann::json{{"greeting", "hey"}}),
            "hey <s></s>");
  EXPECT_THROW(jetlm::render_chat_template("x", nlohmann::json::object(), "", "", true), jetlm::Error);
}

TEST(ChatTemplateApi, RaiseExceptionCarriesTheTemplatesText) {
  try {
    jetlm::ChatTemplateInputs in;
    jetlm::render_chat_template("a\n{{ raise_exception('Roles must alternate') }}", json::array(), in, "tmpl");
    FAIL() << "no error";
  } catch (const jetlm::Error& e) {
    EXPECT_STREQ(e.what(), "tmpl:2: Roles must alternate");
  }
}

TEST(ChatTemplateApi, StrftimeNowOnlyWhenAsked) {
  const std::string tmpl = "{% if strftime_now is defined %}{{ strftime_now('%d %b %Y') }}{% else %}none{% endif %}";
  jetlm::ChatTemplateInputs in;
  EXPECT_EQ(jetlm::render_chat_template(tmpl, json::array(), in), "none");
  in.define_strftime_now = true;
  std::tm tm{};
  tm.tm_year = 2024 - 1900;
  tm.tm_mon = 6;
  tm.tm_mday = 26;
  tm.tm_hour = 12;
  in.now = std::mktime(&tm);
  EXPECT_EQ(jetlm::render_chat_template(tmpl, json::array(), in), "26 Jul 2024");
}

TEST(ChatTemplateApi, KeyOrderOfToolsIsKept) {
  jetlm::ChatTemplateInputs in;
  in.extra = json::parse(R"({"tools": [{"name": "f", "parameters": {"z": 1, "a": {"y": true, "b": null}}}]})");
  EXPECT_EQ(jetlm::render_chat_template("{{ tools[0] | tojson }}", json::array(), in),
            R"({"name": "f", "parameters": {"z": 1, "a": {"y": true, "b": null}}})");
}

// ---- whitespace: trim_blocks, lstrip_blocks, -/+ modifiers --------------------

TEST(JinjaWhitespace, TrimBlocksDropsTheNewlineAfterABlockTag) {
  EXPECT_EQ(render("{% if true %}\nyes\n{% endif %}\ndone"), "yes\ndone");
  EXPECT_EQ(render("{{ 'v' }}\nnext"), "v\nnext");  // not after {{ }}
  EXPECT_EQ(render("{# note #}\nafter"), "after");   // comments too
  EXPECT_EQ(render("{% if true +%}\nkept{% endif %}"), "\nkept");
}

TEST(JinjaWhitespace, LstripBlocksDropsIndentationBeforeATag) {
  EXPECT_EQ(render("  {% if true %}\n  yes\n  {% endif %}\n  done"), "  yes\n  done");
  EXPECT_EQ(render("a  {% if true %}b{% endif %}"), "a  b");       // text before it on the line
  EXPECT_EQ(render("    {{ 'v' }}"), "    v");                       // not before {{ }}
  EXPECT_EQ(render("  {%+ if true %}x{% endif %}"), "  x");          // + keeps it
  EXPECT_EQ(render("\t \t{# c #}\nx"), "x");
}

TEST(JinjaWhitespace, MinusStripsAllWhitespaceOnThatSide) {
  EXPECT_EQ(render("a  \n  {%- if true -%}  \n  b  \n  {%- endif %}"), "ab");
  EXPECT_EQ(render("x\n\n   {{- 'y' -}}\n\n   z"), "xyz");
  EXPECT_EQ(render("1 {#- c -#} 2"), "12");
  EXPECT_EQ(render("{%- for i in range(3) -%}\n    {{ i }}\n{%- endfor -%}"), "012");
}

TEST(JinjaWhitespace, IndentedTemplateLikeRealOnes) {
  const std::string t =
      "{%- for m in messages %}\n"
      "    {%- if m.role == 'user' %}\n"
      "        {{- '[U]' + m.content }}\n"
      "    {%- else %}\n"
      "        {{- '[' + m.role + ']' }}\n"
      "    {%- endif %}\n"
      "{%- endfor %}\n";
  EXPECT_EQ(render(t, kMessages), "[system][U]u1[assistant][U]u2");
}

TEST(JinjaWhitespace, OneTrailingNewlineIsDroppedAndCrLfBecomesLf) {
  EXPECT_EQ(render("text\n"), "text");
  EXPECT_EQ(render("text\n\n"), "text\n");
  EXPECT_EQ(render("a\r\n{% if true %}\r\nb\r\n{% endif %}\r\nc\r\n"), "a\nb\nc");
}

TEST(JinjaWhitespace, RawBlocks) {
  EXPECT_EQ(render("{% raw %}{{ not parsed }} {% if %}{% endraw %}"), "{{ not parsed }} {% if %}");
  EXPECT_EQ(render("x {%- raw -%}  {{ r }}  {%- endraw -%}  y"), "x{{ r }}y");
}

// ---- statements ------------------------------------------------------------------

TEST(JinjaLoops, LoopVariables) {
  EXPECT_EQ(render("{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}"
                   "{{ loop.length }};{% endfor %}"),
            "103TrueFalse3;212FalseFalse3;321FalseTrue3;");
  EXPECT_EQ(render("{% for x in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }}{{ loop.cycle('a', 'b') }} {% endfor %}"),
            "-2a 1-3b 2-a ");
}

TEST(JinjaLoops, ElseBreakContinueFilterUnpacking) {
  EXPECT_EQ(render("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  EXPECT_EQ(render("{% for x in range(6) %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}"
                   "{% endfor %}"),
            "023");
  EXPECT_EQ(render("{% for m in messages if m.role != 'system' %}{{ loop.index }}{{ m.content }}{% endfor %}", kMessages),
            "1u12a13u2");
  EXPECT_EQ(render(R"({% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %})", R"({"d": {"b": 1, "a": [2]}})"), "b=1;a=[2];");
  EXPECT_EQ(render("{% for a, b in [(1, 2), (3, 4)] %}{{ a * b }}{% endfor %}"), "212");
  EXPECT_EQ(render("{% for k in d %}{{ k }}{% endfor %}", R"({"d": {"x": 1, "y": 2}})"), "xy");
  EXPECT_EQ(render("{% for i in range(2) %}{% for j in range(2) %}{{ loop.index }}{% endfor %}{{ loop.index }}{% endfor %}"),
            "121122");
}

TEST(JinjaScoping, SetInsideALoopDoesNotLeakButNamespaceDoes) {
  EXPECT_EQ(render("{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = x + 1 %}{{ x }}{% endfor %}{{ x }}"), "12121");
  EXPECT_EQ(render("{% set ns = namespace(n=0, seen=false) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% endfor %}"
                   "{% if true %}{% set ns.seen = true %}{% endif %}{{ ns.n }} {{ ns.seen }}"),
            "6 True");
  EXPECT_EQ(render("{% set x = 5 %}{% if x > 3 %}{% set x = 10 %}{% endif %}{{ x }}"), "10");
  EXPECT_EQ(render("{% set a, b = 1, 2 %}{{ a }}{{ b }} {% set t = 1, 2 %}{{ t }}"), "12 (1, 2)");
  EXPECT_EQ(render("{% set c %} x{{ 1 + 1 }} {% endset %}[{{ c }}]"), "[ x2 ]");
  EXPECT_EQ(render("{% with a = 1 %}{{ a }}{% endwith %}{{ a is defined }}"), "1False");
  EXPECT_NE(render_error("{% set s = 'x' %}{% set s.y = 1 %}").find("non-namespace"), std::string::npos);
}

TEST(JinjaMacros, DefaultsKeywordsAndCaller) {
  EXPECT_EQ(render("{% macro g(name, greet='Hi') %}{{ greet }} {{ name }}{% endmacro %}{{ g('A') }}|{{ g('B', greet='Yo') }}"),
            "Hi A|Yo B");
  EXPECT_EQ(render("{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}in{% endcall %}"), "[in]");
  EXPECT_EQ(render("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(3) }}"), "321");
  EXPECT_EQ(render("{% filter upper %}abc{{ 'd' }}{% endfilter %}"), "ABCD");
}

TEST(JinjaConditionals, IfElifElse) {
  const std::string t = "{% if a %}A{% elif b %}B{% elif c %}C{% else %}D{% endif %}";
  EXPECT_EQ(render(t, R"({"a": 1})"), "A");
  EXPECT_EQ(render(t, R"({"a": 0, "b": "x"})"), "B");
  EXPECT_EQ(render(t, R"({"c": [1]})"), "C");
  EXPECT_EQ(render(t, R"({"b": "", "c": []})"), "D");
}

// ---- expressions -----------------------------------------------------------------

TEST(JinjaExpressions, ArithmeticAndPrecedence) {
  EXPECT_EQ(render("{{ 1 + 2 * 3 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }} {{ 2 ** 3 ** 2 }}"),
            "7 3 -4 2 3.5 2.0 1024 64");
  EXPECT_EQ(render("{{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1e-5 }} {{ 1.5 * 2 }} {{ true + 1 }} {{ -2 ** 2 }}"),
            "0.30000000000000004 1e+20 1e-05 3.0 2 4");
  // `~` binds tighter than + and - in jinja2 (unlike what one might guess).
  EXPECT_EQ(render("{{ 1 ~ 2 * 3 }} {{ 'a' ~ (1 + 2) }} {{ 2 * 3 ~ 4 }} {{ 10 - 2 - 3 }}"), "16 a3 64 5");
  EXPECT_NE(render_error("{{ 1 + 2 ~ 3 }}").find("unsupported operand type(s) for +: 'int' and 'str'"), std::string::npos);
  EXPECT_EQ(render("{{ 'ab' + 'cd' }} {{ [1] + [2] }} {{ 'ab' * 2 }} {{ 'a' ~ none ~ true ~ undefined_name ~ [1] }}"),
            "abcd [1, 2] abab aNoneTrue[1]");
}

TEST(JinjaExpressions, ComparisonsLogicAndMembership) {
  EXPECT_EQ(render("{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ (1, 2) == [1, 2] }} {{ 'b' > 'a' }}"),
            "True False True True False True");
  EXPECT_EQ(render("{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [3] }} {{ not 1 == 2 }}"),
            "True True True False True");
  EXPECT_EQ(render("{{ 0 or '' or 'z' }} {{ 1 and 'y' }} {{ [] or 'empty' }} {{ not none }}"), "z y empty True");
  EXPECT_EQ(render("{{ 1 if true else 2 }} {{ 1 if false else 2 }} [{{ 1 if false }}] {{ 'a' if 0 else 'b' if 0 else 'c' }}"),
            "1 2 [] c");
}

TEST(JinjaExpressions, LiteralsAndPrinting) {
  EXPECT_EQ(render("{{ none }} {{ true }} {{ False }} {{ 3.0 }} {{ (1,) }} {{ () }} {{ {'a': 1, 'b': [none, 'x']} }}"),
            "None True False 3.0 (1,) () {'a': 1, 'b': [None, 'x']}");
  EXPECT_EQ(render(R"({{ "it's" }} {{ ['it\'s', "q\"", 'n\nl'] }} {{ '\u00e9\x41' }} {{ 'a' 'b' }})"),
            R"(it's ["it's", 'q"', 'n\nl'] éA ab)");
}

TEST(JinjaExpressions, SubscriptsAndSlices) {
  EXPECT_EQ(render("{{ messages[1:] | length }} {{ messages[::-1][0].content }} {{ messages[-1]['role'] }} {{ messages[:-2] | "
                   "map(attribute='content') | join(',') }}",
                   kMessages),
            "3 u2 user sys,u1");
  EXPECT_EQ(render("{{ 'héllo'[1:3] }} {{ 'héllo'[::-1] }} {{ [1, 2, 3, 4, 5][::2] }} {{ [1, 2][5:] }} {{ 'abc'[-1] }} {{ x.a.1.b }}",
                   R"({"x": {"a": [0, {"b": "deep"}]}})"),
            "él olléh [1, 3, 5] [] c deep");
}

TEST(JinjaExpressions, UndefinedBehavesLikeJinja2Default) {
  EXPECT_EQ(render("[{{ nope }}] {{ nope is defined }} {{ nope is undefined }} {{ nope | default('d') }} {{ nope | length }} "
                   "{{ not nope }} {% for x in nope %}x{% endfor %}{{ x.missing is defined }} {{ x['missing'] is defined }}",
                   R"({"x": {"a": 1}})"),
            "[] False True d 0 True False False");
  EXPECT_EQ(render("{{ '' | default('e', true) }} {{ none | default('n') }} {{ nope == nope }}"), "e None True");
  // Using an undefined value beyond printing and testing it is an error, as in jinja2.
  EXPECT_NE(render_error("{{ nope.attr }}").find("'nope' is undefined"), std::string::npos);
  EXPECT_NE(render_error("{{ x.missing.deeper }}", R"({"x": {}})").find("'dict object' has no attribute 'missing'"),
            std::string::npos);
  EXPECT_NE(render_error("{{ nope + 'a' }}").find("'nope' is undefined"), std::string::npos);
  EXPECT_NE(render_error("{{ nope() }}").find("'nope' is undefined"), std::string::npos);
}

TEST(JinjaExpressions, RuntimeErrorsNameTheLine) {
  EXPECT_EQ(render_error("a\nb\n{{ 1 + 'x' }}"), "test:3: TypeError: unsupported operand type(s) for +: 'int' and 'str'");
  EXPECT_EQ(render_error("{{ 'x' + 1 }}"), "test:1: TypeError: can only concatenate str (not \"int\") to str");
  EXPECT_EQ(render_error("\n{{ 1 / 0 }}"), "test:2: ZeroDivisionError: division by zero");
}

TEST(JinjaSyntax, ErrorsNameTheLine) {
  EXPECT_NE(render_error("ok\n{% if x %}\nnever closed").find("test:3: syntax error: unexpected end of template"),
            std::string::npos);
  EXPECT_NE(render_error("\n\n{{ 1 + }}").find("test:3: syntax error"), std::string::npos);
  EXPECT_NE(render_error("{% endfor %}").find("unknown tag 'endfor'"), std::string::npos);
  EXPECT_NE(render_error("{{ x | nosuchfilter }}").find("no filter named 'nosuchfilter'"), std::string::npos);
  EXPECT_NE(render_error("{{ x is nosuchtest }}").find("no test named 'nosuchtest'"), std::string::npos);
  EXPECT_NE(render_error("{# open").find("missing end of comment tag"), std::string::npos);
  EXPECT_NE(render_error("{{ 'open }}").find("unterminated string"), std::string::npos);
  EXPECT_NE(render_error("{% break %}").find("outside loop"), std::string::npos);
  // Unknown filters are rejected even in branches that never run, as jinja2 compiles them.
  EXPECT_NE(render_error("{% if false %}{{ 1 | bogus }}{% endif %}").find("bogus"), std::string::npos);
}

// ---- filters and tests -----------------------------------------------------------

TEST(JinjaFilters, Strings) {
  EXPECT_EQ(render("{{ '  hi  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ 'Ab' | upper }}|{{ 'Ab' | lower }}|{{ 'hello world' | "
                   "capitalize }}|{{ \"they're bill's\" | title }}|{{ 'aXa' | replace('a', 'b') }}|{{ 42 | string }}"),
            "hi|hi|AB|ab|Hello world|They're Bill's|bXb|42");
  EXPECT_EQ(render("{{ 'Über' | upper }} {{ 'é' | length }} {{ '\u3000x\u00a0' | trim }}"), "ÜBER 1 x");
  EXPECT_EQ(render("{{ 'a\nb\n\nc' | indent(2) }}|{{ 'a\nb' | indent(2, true) }}|{{ 'x' | center(5) }}|{{ 'a b  c' | wordcount }}"),
            "a\n  b\n\n  c|  a\n  b|  x  |3");
  EXPECT_EQ(render("{{ '%s-%d' | format('a', 3) }} {{ '%05.1f' % 2.25 }} {{ '%(k)s' % {'k': 'v'} }} {{ '<&>' | e }}"),
            "a-3 002.2 v &lt;&amp;&gt;");
}

TEST(JinjaFilters, Sequences) {
  EXPECT_EQ(render("{{ [3, 1, 2] | sort }} {{ [3, 1, 2] | sort(reverse=true) }} {{ ['b', 'A', 'a'] | sort }} {{ [1, 2, 2, 1] | "
                   "unique | list }} {{ [1, 2] | reverse | list }} {{ 'ab' | reverse }}"),
            "[1, 2, 3] [3, 2, 1] ['A', 'a', 'b'] [1, 2] [2, 1] ba");
  EXPECT_EQ(render("{{ [1, 2, 3] | first }} {{ [1, 2, 3] | last }} {{ [1, 2] | join('-') }} {{ [1, 2, 3] | sum }} {{ [1, 5, 3] | "
                   "max }} {{ [4, 1] | min }} {{ 'ab' | list }} {{ [1, 2, 3] | batch(2) | list }} {{ [] | first is defined }}"),
            "1 3 1-2 6 5 1 ['a', 'b'] [[1, 2], [3]] False");
  EXPECT_EQ(render("{{ d | items | list }} {{ d | dictsort }} {{ d | length }}", R"({"d": {"b": 1, "a": 2}})"),
            "[('b', 1), ('a', 2)] [('a', 2), ('b', 1)] 2");
}

TEST(JinjaFilters, SelectRejectMap) {
  const char* ctx = R"({"msgs": [{"role": "system", "content": "s"}, {"role": "user", "content": "u1"},
                                 {"role": "assistant", "content": "a", "tool_calls": [1]}, {"role": "user", "content": "u2"}]})";
  EXPECT_EQ(render("{{ msgs | selectattr('role', 'equalto', 'user') | list | length }} {{ msgs | rejectattr('role', 'eq', 'user') "
                   "| map(attribute='content') | join('|') }} {{ msgs | selectattr('tool_calls') | list | length }} {{ msgs | "
                   "map(attribute='role') | unique | list }}",
                   ctx),
            "2 s|a 1 ['system', 'user', 'assistant']");
  EXPECT_EQ(render("{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3] | reject('even') | list }} {{ ['a', 1] | "
                   "select('string') | list }} {{ ['a', 'b'] | map('upper') | join }} {{ msgs | map(attribute='x', default='-') "
                   "| join }}",
                   ctx),
            "[1, 3] [1, 3] ['a'] AB ----");
}

TEST(JinjaFilters, NumbersAndConversions) {
  EXPECT_EQ(render("{{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ 3.9 | int }} {{ '3.5' | float }} "
                   "{{ 3 | float }} {{ -5 | abs }} {{ 2.5 | round }} {{ 3.14159 | round(2) }}"),
            "42 4 0 7 3 3.5 3.0 5 2.0 3.14");
}

TEST(JinjaFilters, ToJsonLikeTransformers) {
  const char* ctx = R"({"x": {"name": "f", "params": {"z": [1, 2.5, true, null], "a": "é\"\n"}, "e": {}, "l": []}})";
  EXPECT_EQ(render("{{ x | tojson }}", ctx), R"({"name": "f", "params": {"z": [1, 2.5, true, null], "a": "é\"\n"}, "e": {}, "l": []})");
  EXPECT_EQ(render("{{ x.params | tojson(indent=2) }}", ctx),
            "{\n  \"z\": [\n    1,\n    2.5,\n    true,\n    null\n  ],\n  \"a\": \"é\\\"\\n\"\n}");
  EXPECT_EQ(render("{{ x.params | tojson(sort_keys=true) }}|{{ 'é😀<' | tojson(ensure_ascii=true) }}|{{ 1.0 | tojson }}", ctx),
            R"({"a": "é\"\n", "z": [1, 2.5, true, null]}|"\u00e9\ud83d\ude00<"|1.0)");
  EXPECT_NE(render_error("{{ nope | tojson }}").find("not JSON serializable"), std::string::npos);
}

TEST(JinjaTests, TypeAndValueTests) {
  EXPECT_EQ(render("{{ 'x' is string }} {{ 1 is string }} {{ 1 is number }} {{ true is number }} {{ true is boolean }} {{ 1 is "
                   "integer }} {{ 1.0 is float }} {{ none is none }} {{ {} is mapping }} {{ [] is mapping }}"),
            "True False True True True True True True True False");
  EXPECT_EQ(render("{{ [] is iterable }} {{ 'x' is iterable }} {{ 1 is iterable }} {{ nope is iterable }} {{ [] is sequence }} "
                   "{{ {} is sequence }} {{ true is true }} {{ 1 is true }} {{ false is false }}"),
            "True True False True True True True False True");
  EXPECT_EQ(render("{{ 6 is divisibleby 3 }} {{ 6 is not divisibleby(4) }} {{ 3 is odd }} {{ 3 is even }} {{ 'a' is in 'abc' }} "
                   "{{ 1 is eq 1 }} {{ 'abc' is lower }} {{ range is callable }} {{ x is not none }}",
                   R"({"x": null})"),
            "True True True False True True True True False");
}

// ---- Python methods --------------------------------------------------------------

TEST(JinjaMethods, StringMethods) {
  EXPECT_EQ(render("{{ ' a b '.strip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ "
                   "'a.b.c'.rsplit('.', 1) }}"),
            "a b|['a', 'b', '', 'c']|['a', 'b']|['a', 'b c']|['a.b', 'c']");
  EXPECT_EQ(render("{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'bc')) }} {{ 'hello world'.title() }} {{ 'aaa'.replace('a', "
                   "'b', 2) }} {{ 'abcabc'.find('c') }} {{ 'abc'.count('b') }} {{ '-'.join(['a', 'b']) }} {{ 'xhix'.lstrip('x') }} "
                   "{{ 'a\\nb'.splitlines() }} {{ '{}+{n}'.format(1, n=2) }} {{ 'X'.lower() }}{{ 'y'.upper() }}"),
            "True True Hello World bba 2 1 a-b hix ['a', 'b'] 1+2 xY");
  const char* think = R"({"c": "<think>\nreason\n</think>\n\nanswer"})";
  EXPECT_EQ(render("{{ c.split('</think>')[-1].lstrip('\\n') }}|{{ c.split('</think>')[0].split('<think>')[-1].strip() }}", think),
            "answer|reason");
}

TEST(JinjaMethods, DictAndListMethods) {
  EXPECT_EQ(render("{{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'fb') }} {{ d.keys() | list }} {{ d.values() | list }} "
                   "{{ d.items() | list }} {{ [1, 1, 2].count(1) }} {{ [5, 6].index(6) }}",
                   R"({"d": {"a": 1, "b": 2}})"),
            "1 None fb ['a', 'b'] [1, 2] [('a', 1), ('b', 2)] 2 1");
  // The sandbox is immutable, as in transformers: methods that modify are refused.
  EXPECT_NE(render_error("{% set l = [1] %}{{ l.append(2) }}").find("unsafe"), std::string::npos);
}

TEST(JinjaGlobals, RangeDictNamespaceJoiner) {
  EXPECT_EQ(render("{{ range(3) | list }} {{ range(1, 10, 4) | list }} {{ range(3, 0, -1) | list }} {{ dict(a=1) }} "
                   "{{ namespace(x=2).x }} {% set j = joiner('/') %}{% for c in 'ab' %}{{ j() }}{{ c }}{% endfor %}"),
            "[0, 1, 2] [1, 5, 9] [3, 2, 1] {'a': 1} 2 a/b");
  EXPECT_NE(render_error("{{ range(1000000) | length }}").find("Range too big"), std::string::npos);
}

// ---- hostile templates (they come from model files) ------------------------

TEST(JinjaLimits, HostileTemplatesFailCleanly) {
  const std::string parens = "{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}";
  EXPECT_NE(render_error(parens).find("nested too deeply"), std::string::npos);
  std::string chain = "{{ 1";
  for (int i = 0; i < 100000; ++i) chain += " + 1";
  EXPECT_NE(render_error(chain + " }}").find("nested too deeply"), std::string::npos);
  std::string ifs;
  for (int i = 0; i < 100000; ++i) ifs += "{% if true %}";
  EXPECT_NE(render_error(ifs).find("nested too deeply"), std::string::npos);
  EXPECT_NE(render_error("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").find("nested too deeply"), std::string::npos);
  // The step cap, not the clock (a slow machine, qemu or a sanitizer could reach 5 s first):
  // a small cap, and no time limit to speak of.
  {
    jetlm::jinja::Limits small;
    small.max_steps = 20000;
    small.max_seconds = 600;
    std::string msg;
    try {
      Template("{% for i in range(200) %}{% for j in range(101) %}{% endfor %}{% endfor %}", "test").render({}, small);
    } catch (const jetlm::Error& e) {
      msg = e.what();
    }
    EXPECT_NE(msg.find("loop iterations"), std::string::npos) << msg;
  }
  // Reasonable depth is fine.
  EXPECT_EQ(render("{{ " + std::string(40, '(') + "1" + std::string(40, ')') + " }}"), "1");
}
