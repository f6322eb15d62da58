"""Checks the public headers against the C API's own rules (docs/conventions.md).

- Outputs come first: in every exported function, the parameters the call writes (a non-const pointer, or a
  path named out_path) and a caller buffer's capacity come before every input.
- Every exported function is named slicenav_*, and every struct with a struct_size has it as its first field.

Usage: header_rules.py HEADER...; exits 1 naming every break of a rule.
"""
import re
import sys

DECLARATION = re.compile(r"SLICENAV_API\s+(?:SLICENAV_NODISCARD\s+)?([^;{]*?)\b(\w+)\s*\(([^;{]*?)\)\s*;", re.S)
STRUCT = re.compile(r"typedef\s+struct\s+(\w+)\s*\{(.*?)\}\s*\w+\s*;", re.S)


def strip_comments(text):
    return re.sub(r"/\*.*?\*/", " ", text, flags=re.S)


def parameters(text):
    text = " ".join(text.split())
    if text in ("", "void"):
        return []
    return [p.strip() for p in text.split(",")]


def parameter_name(parameter):
    return re.sub(r"\[.*?\]", "", parameter).replace("*", " ").split()[-1]


def is_output(parameter):
    """A pointer the call writes through (T*, T**, const T**), a caller buffer's capacity, or out_path."""
    name = parameter_name(parameter)
    if name in ("out_path", "capacity"):
        return True
    stars = parameter.count("*")
    return stars >= 2 or (stars == 1 and "const" not in parameter.split())


def check(path):
    problems = []
    text = strip_comments(open(path).read())
    functions = DECLARATION.findall(text)
    if not functions:
        problems.append(f"{path}: no SLICENAV_API declarations found")
    for _, name, params in functions:
        if not name.startswith("slicenav_"):
            problems.append(f"{path}: {name} is not named slicenav_*")
        if name.endswith("_free"):
            continue  # the handle it releases is its one input
        kinds = [is_output(p) for p in parameters(params)]
        if True in kinds and False in kinds and kinds.index(False) < len(kinds) - kinds[::-1].index(True) - 1:
            listed = ", ".join(("out " if k else "in ") + parameter_name(p) for k, p in zip(kinds, parameters(params)))
            problems.append(f"{path}: {name} has an input before an output ({listed})")
    for struct, body in STRUCT.findall(text):
        fields = [f.strip() for f in body.split(";") if f.strip()]
        if any(re.search(r"\bstruct_size\b", f) for f in fields[1:]):
            problems.append(f"{path}: {struct}'s struct_size is not its first field")
    return problems, len(functions)


def main():
    problems, count = [], 0
    for path in sys.argv[1:]:
        found, n = check(path)
        problems += found
        count += n
    for p in problems:
        print(p)
    print(f"header_rules: {count} functions, {len(problems)} problems")
    return 1 if problems or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
