#!/usr/bin/env python3
"""The CMake floor (3.10, JetPack 4.6) and the host-code floor (gcc 8, C++17),
checked by reading the sources: .ci/cmake-floor.sh runs this, then builds with
every 3.10 code path taken (-DJETLM_CMAKE_AS_3_10=ON).

CMake: every use of a command, keyword, property or generator expression newer
than 3.10 (the table below) must sit inside a branch that only runs on a CMake
that has it, written `if(NOT JETLM_CMAKE_VERSION VERSION_LESS X)` (or an
`elseif` of that form, or ANDed with it) with X at least the feature's version.
Host code: no <filesystem>, no std::from_chars or to_chars on floating point
(gcc 11), no <execution> or <memory_resource> (gcc 9).
Exit status 1 with one line per finding."""
import os
import re
import sys

# (pattern, version it appeared in, what)
FEATURES = [
    (r"\bCONFIGURE_DEPENDS\b", "3.12", "file(GLOB CONFIGURE_DEPENDS)"),
    (r"\badd_link_options\s*\(", "3.13", "add_link_options"),
    (r"\btarget_link_options\s*\(", "3.13", "target_link_options"),
    (r"\btarget_link_directories\s*\(", "3.13", "target_link_directories"),
    (r"\badd_compile_definitions\s*\(", "3.12", "add_compile_definitions"),
    (r"\btarget_precompile_headers\s*\(", "3.16", "target_precompile_headers"),
    (r"\bcmake_language\s*\(", "3.18", "cmake_language"),
    (r"\bcmake_path\s*\(", "3.20", "cmake_path"),
    (r"\bblock\s*\(", "3.25", "block"),
    (r"\bFetchContent_MakeAvailable\b", "3.14", "FetchContent_MakeAvailable"),
    (r"\binclude\s*\(\s*FetchContent\b", "3.11", "FetchContent"),
    (r"\blist\s*\(\s*(TRANSFORM|PREPEND|POP_BACK|POP_FRONT)\b", "3.12", "list(TRANSFORM/PREPEND/POP_*)"),
    (r"\bstring\s*\(\s*JOIN\b", "3.12", "string(JOIN)"),
    (r"\bstring\s*\(\s*REPEAT\b", "3.15", "string(REPEAT)"),
    (r"\bforeach\s*\([^)]*\bZIP_LISTS\b", "3.17", "foreach(ZIP_LISTS)"),
    (r"\bCOMMAND_ERROR_IS_FATAL\b", "3.19", "execute_process(COMMAND_ERROR_IS_FATAL)"),
    (r"\bHOMEPAGE_URL\b", "3.12", "project(HOMEPAGE_URL)"),
    (r"\bDISCOVERY_MODE\b", "3.18", "gtest_discover_tests(DISCOVERY_MODE)"),
    (r"\bDISCOVERY_TIMEOUT\b", "3.10.3", "gtest_discover_tests(DISCOVERY_TIMEOUT)"),
    (r"\bGTest::gtest(_main)?\b", "3.20", "FindGTest's GTest::gtest targets"),
    (r"(?<!CMAKE_)\bCUDA_ARCHITECTURES\b", "3.18", "the CUDA_ARCHITECTURES property"),
    (r"\bfind_package\s*\(\s*CUDAToolkit\b", "3.17", "FindCUDAToolkit"),
    (r"\bCUDA::", "3.17", "FindCUDAToolkit's CUDA:: targets"),
    (r"\bfind_package\s*\(\s*Python3?\b", "3.12", "FindPython3"),
    (r"\bset_source_files_properties\s*\([^)]*\bCOMPILE_OPTIONS\b", "3.11", "the COMPILE_OPTIONS source property"),
    (r"\bVERSION_GREATER_EQUAL\b.*\b(PATH_EQUAL)\b", "3.24", "if(PATH_EQUAL)"),
    (r"\$<TARGET_EXISTS:", "3.12", "$<TARGET_EXISTS>"),
    (r"\$<GENEX_EVAL:", "3.12", "$<GENEX_EVAL>"),
    (r"\$<(REMOVE_DUPLICATES|FILTER):", "3.15", "$<REMOVE_DUPLICATES>/$<FILTER>"),
    (r"\$<COMPILE_LANG_AND_ID:", "3.15", "$<COMPILE_LANG_AND_ID>"),
    (r"\$<(LINK_LANGUAGE|DEVICE_LINK|HOST_LINK)\b", "3.18", "$<LINK_LANGUAGE>/$<DEVICE_LINK>"),
]

GUARD = re.compile(r"NOT\s+JETLM_CMAKE_VERSION\s+VERSION_LESS\s+([0-9.]+)")
MIN_REQ = re.compile(r"cmake_minimum_required\s*\(\s*VERSION\s+([0-9.]+)", re.I)


def vtuple(v):
    return tuple(int(x) for x in v.split("."))


def cmake_files(root):
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith(("build", ".git"))]
        for f in files:
            if f == "CMakeLists.txt" or f.endswith(".cmake"):
                yield os.path.join(d, f)


def check_cmake(path, findings):
    # Stack of branch guarantees: the version each open branch promises (or None).
    stack = []
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    for no, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0] if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        m = MIN_REQ.search(line)
        if m and m.group(1) != "3.10":
            findings.append(f"{path}:{no}: cmake_minimum_required(VERSION {m.group(1)}): the floor is 3.10")
        head = re.match(r"\s*(if|elseif|else|endif)\s*\(", line)
        if head:
            kw = head.group(1)
            g = GUARD.search(line)
            promise = vtuple(g.group(1)) if g and " OR " not in line else None
            if kw == "if":
                stack.append(promise)
            elif kw == "elseif" and stack:
                stack[-1] = promise
            elif kw == "else" and stack:
                stack[-1] = None
            elif kw == "endif" and stack:
                stack.pop()
            if kw in ("if", "elseif"):
                continue  # the condition itself names the version
        have = max([p for p in stack if p is not None], default=(3, 10))
        for pat, ver, what in FEATURES:
            if re.search(pat, line) and vtuple(ver) > have:
                findings.append(f"{path}:{no}: {what} needs CMake {ver} (guard it: "
                                f"if(NOT JETLM_CMAKE_VERSION VERSION_LESS {ver}) with a 3.10 way in else)")


HOST_BANNED = [
    (re.compile(r"#\s*include\s*<(filesystem|execution|memory_resource)>"), "<{0}> (missing or incomplete in gcc 8)"),
    (re.compile(r"\bstd::filesystem\b"), "std::filesystem (gcc 8 needs -lstdc++fs)"),
]
CHARS = re.compile(r"\b(from_chars|to_chars)\s*\(")


def check_host(root, findings):
    for top in ("src", "tests", "bench", "fuzz"):
        for d, _, files in os.walk(os.path.join(root, top)):
            for f in files:
                if not f.endswith((".cpp", ".h", ".cc", ".hpp")):
                    continue
                p = os.path.join(d, f)
                with open(p, encoding="utf-8", errors="replace") as fh:
                    for no, line in enumerate(fh, 1):
                        for rx, what in HOST_BANNED:
                            m = rx.search(line)
                            if m:
                                findings.append(f"{p}:{no}: " + what.format(*m.groups()))
                        # Integer conversions exist in gcc 8; floating point ones from gcc 11.
                        # A use must say it is integral: a trailing `// integral` comment.
                        if CHARS.search(line) and "// integral" not in line:
                            findings.append(f"{p}:{no}: std::from_chars/to_chars: floating point needs gcc 11 "
                                            "(mark integer uses `// integral`)")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    findings = []
    n = 0
    for p in cmake_files(root):
        n += 1
        check_cmake(p, findings)
    check_host(root, findings)
    for f in findings:
        print(f)
    print(f"cmake floor: {n} CMake files, {len(FEATURES)} features checked; {len(findings)} findings")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
