"""DynamoDB's expression language, evaluated on items in the low-level AttributeValue form.

Condition and filter expressions, update expressions, projection expressions and key condition expressions
are parsed once per expression string (PynamoDB sends the same few, with placeholders #0 and :0, on every
call) into closures; the placeholders are resolved on each evaluation, since the cache key is the
expression alone. What DynamoDB refuses with a ValidationException raises `ExpressionError` with DynamoDB's
wording where it is known.

Items are never mutated: `apply_update` returns a new item that shares every value it did not change with
the input (and may share the caller's expression values), so callers treat items as immutable.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Context, Decimal, Inexact, InvalidOperation, Overflow, Subnormal, Underflow
from typing import Any, NamedTuple

AttributeValue = dict[str, Any]
Item = dict[str, dict]
Names = Mapping[str, str]
Values = Mapping[str, AttributeValue]
Element = str | int  # a name ("#0" is a placeholder, resolved on evaluation) or a list index


class ExpressionError(ValueError):
    """What DynamoDB answers with a ValidationException: bad syntax, an undefined placeholder, an operand of
    the wrong type, an update of a document path that cannot exist."""


class _Invalid(Exception):
    """An error DynamoDB reports as "Invalid <kind of expression>: ..."; the public functions add the kind."""


# --- numbers ---------------------------------------------------------------------------------------------

# DynamoDB's numbers: 38 significant digits, magnitudes from 1E-130 to below 1E+126.
_NUMBERS = Context(
    prec=38, Emax=125, Emin=-130, traps=[Overflow, Underflow, Subnormal, Inexact, InvalidOperation]
)


def canonical_number(number: str | Decimal) -> str:
    """DynamoDB's form of a number as it returns it: no exponent, no trailing zeros ("1.50" -> "1.5",
    "1E+2" -> "100", "-0" -> "0"). Refuses what DynamoDB cannot store."""
    try:
        value = Decimal(number).normalize(_NUMBERS)
    except (Overflow, Underflow, Subnormal, Inexact, InvalidOperation) as exc:
        raise _number_error(exc, number) from None
    if not value.is_finite():
        raise ExpressionError(f"The parameter cannot be converted to a numeric value: {number}")
    return f"{value:f}" if value else "0"


def _number_error(exc: ArithmeticError, number: object) -> ExpressionError:
    if isinstance(exc, Overflow):
        return ExpressionError(
            "Number overflow. Attempting to store a number with magnitude larger than supported range"
        )
    if isinstance(exc, Underflow | Subnormal):
        return ExpressionError(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range"
        )
    if isinstance(exc, Inexact):
        return ExpressionError("Attempting to store a number with more than 38 significant digits")
    return ExpressionError(f"The parameter cannot be converted to a numeric value: {number}")


def _arithmetic(op: str, a: str, b: str) -> str:
    try:
        x, y = Decimal(a), Decimal(b)
        result = _NUMBERS.add(x, y) if op == "+" else _NUMBERS.subtract(x, y)
    except (Overflow, Underflow, Subnormal, Inexact, InvalidOperation) as exc:
        raise _number_error(exc, f"{a} {op} {b}") from None
    return canonical_number(result)


# --- values ------------------------------------------------------------------------------------------------

_SCALAR_TYPES = frozenset({"N", "S", "B"})
_SET_TYPES = frozenset({"SS", "NS", "BS"})
_TYPE_NAMES = ("S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M")
# How DynamoDB names a type in its "incorrect operand type" messages.
_HUMAN_TYPES = {
    "S": "STRING",
    "N": "NUMBER",
    "B": "BINARY",
    "SS": "STRING SET",
    "NS": "NUMBER SET",
    "BS": "BINARY SET",
    "BOOL": "BOOLEAN",
    "NULL": "NULL",
    "L": "LIST",
    "M": "MAP",
}


def _tag(value: AttributeValue) -> str:
    return next(iter(value))


def _bytes(value: str | bytes | bytearray) -> bytes:
    # Binary arrives base64-encoded from the wire (JSON) or raw from the SDK; compare the bytes either way.
    return bytes(value) if isinstance(value, bytes | bytearray) else base64.b64decode(value)


def _element_key(tag: str, element: Any) -> Any:
    """The identity of a set element: numbers by value ("1.0" is "1"), binaries by their bytes."""
    if tag == "NS":
        return Decimal(element)
    if tag == "BS":
        return _bytes(element)
    return element


def _equal(a: AttributeValue, b: AttributeValue) -> bool:
    """DynamoDB's `=`: same type and same value; numbers by value, sets in any order, lists and maps deep."""
    tag = _tag(a)
    if tag != _tag(b):
        return False
    x, y = a[tag], b[tag]
    if tag == "N":
        return Decimal(x) == Decimal(y)
    if tag == "B":
        return _bytes(x) == _bytes(y)
    if tag in _SET_TYPES:
        return {_element_key(tag, e) for e in x} == {_element_key(tag, e) for e in y}
    if tag == "L":
        return len(x) == len(y) and all(_equal(p, q) for p, q in zip(x, y, strict=True))
    if tag == "M":
        return x.keys() == y.keys() and all(_equal(v, y[k]) for k, v in x.items())
    return bool(x == y)


def _order(a: AttributeValue, b: AttributeValue) -> int | None:
    """-1, 0 or 1; None when the two are not both numbers, both strings or both binaries."""
    tag = _tag(a)
    if tag != _tag(b):
        return None
    x: Any
    y: Any
    if tag == "N":
        x, y = Decimal(a["N"]), Decimal(b["N"])
    elif tag == "S":
        # Code point order is UTF-8 byte order, which is DynamoDB's order for strings.
        x, y = a["S"], b["S"]
    elif tag == "B":
        x, y = _bytes(a["B"]), _bytes(b["B"])
    else:
        return None
    return (x > y) - (x < y)


def compare_values(a: AttributeValue, b: AttributeValue) -> int:
    """DynamoDB's order of two scalars of one type (the order of sort keys): numbers by value, strings by
    their UTF-8 bytes, binaries by their bytes. Negative, zero or positive, as for `sorted(key=...)`."""
    order = _order(a, b)
    if order is None:
        raise ExpressionError(f"Cannot order {_describe(a)} and {_describe(b)}: not two scalars of one type")
    return order


def _describe(value: AttributeValue) -> str:
    """A value as DynamoDB quotes it in messages: AttributeValue: {N:5}."""
    tag = _tag(value)
    return f"AttributeValue: {{{tag}:{value[tag]}}}"


def _size(value: AttributeValue | None) -> AttributeValue | None:
    if value is None:
        return None
    tag = _tag(value)
    if tag == "B":
        return {"N": str(len(_bytes(value["B"])))}
    if tag == "S" or tag in _SET_TYPES or tag == "L" or tag == "M":
        return {"N": str(len(value[tag]))}
    return None  # numbers, booleans and nulls have no size: a comparison with it is false


def _lookup(item: Item, path: tuple[Element, ...]) -> AttributeValue | None:
    """The value at a resolved document path, or None where the path leads nowhere."""
    value = item.get(path[0])  # type: ignore[arg-type]
    for element in path[1:]:
        if value is None:
            return None
        if type(element) is int:
            items = value.get("L")
            if items is None or element >= len(items):
                return None
            value = items[element]
        else:
            entries = value.get("M")
            if entries is None:
                return None
            value = entries.get(element)
    return value


def _resolve(path: tuple[Element, ...], names: Names) -> tuple[Element, ...]:
    return tuple(names[e] if type(e) is str and e[0] == "#" else e for e in path)


def _show(path: tuple[Element, ...]) -> str:
    return "[" + ", ".join(f"[{e}]" if type(e) is int else str(e) for e in path) + "]"


# --- tokens --------------------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<hash>\#[A-Za-z0-9_]+)
  | (?P<value>:[A-Za-z0-9_]+)
  | (?P<number>[0-9]+)
  | (?P<op><>|<=|>=|[=<>()\[\],.+-])
    """,
    re.VERBOSE,
)
_KEYWORDS = frozenset({"AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"})
_COMPARATORS = frozenset({"=", "<>", "<", "<=", ">", ">="})


class _Token(NamedTuple):
    kind: str  # name, hash, value, number, op, end
    text: str
    start: int


@functools.lru_cache(maxsize=1024)
def _tokens(expression: str) -> tuple[_Token, ...]:
    tokens: list[_Token] = []
    position = 0
    while position < len(expression):
        match = _TOKEN.match(expression, position)
        if match is None:
            bad = _Token("op", expression[position], position)
            raise _Invalid(_syntax_error(expression, [*tokens, bad], len(tokens)))
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append(_Token(kind, match.group(), position))
        position = match.end()
    tokens.append(_Token("end", "<EOF>", len(expression)))
    return tuple(tokens)


def _syntax_error(expression: str, tokens: list[_Token] | tuple[_Token, ...], index: int) -> str:
    token = tokens[index]
    first = tokens[max(index - 1, 0)].start
    last = tokens[index + 1] if index + 1 < len(tokens) else token
    end = len(expression) if last.kind == "end" else last.start + len(last.text)
    near = expression[first:end]
    return f'Syntax error; token: "{token.text}", near: "{near}", position: {token.start}'


def placeholders_used(*expressions: str | None) -> tuple[set[str], set[str]]:
    """The name (#x) and value (:x) placeholders the expressions use, for DynamoDB's check that every one
    given in ExpressionAttributeNames/Values is used by one of the request's expressions."""
    names: set[str] = set()
    values: set[str] = set()
    for expression in expressions:
        if expression:
            try:
                tokens = _tokens(expression)
            except _Invalid as exc:
                raise ExpressionError(f"Invalid expression: {exc}") from None
            names.update(t.text for t in tokens if t.kind == "hash")
            values.update(t.text for t in tokens if t.kind == "value")
    return names, values


# --- syntax tree ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Path:
    elements: tuple[Element, ...]


@dataclass(frozen=True)
class _Value:
    key: str


@dataclass(frozen=True)
class _Call:
    function: str
    args: tuple[_Node, ...]


@dataclass(frozen=True)
class _Arithmetic:
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Compare:
    op: str
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Between:
    subject: _Node
    low: _Node
    high: _Node


@dataclass(frozen=True)
class _In:
    subject: _Node
    options: tuple[_Node, ...]


@dataclass(frozen=True)
class _Logic:
    op: str  # AND, OR
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Not:
    operand: _Node


_Node = _Path | _Value | _Call | _Arithmetic | _Compare | _Between | _In | _Logic | _Not

_CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
_UPDATE_FUNCTIONS = {"if_not_exists": 2, "list_append": 2}
_ALL_FUNCTIONS = {**_CONDITION_FUNCTIONS, **_UPDATE_FUNCTIONS, "size": 1}


class _Parser:
    """Recursive descent over the tokens; each method consumes one grammar rule."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.tokens = _tokens(expression)
        self.index = 0

    def peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def error(self, token: _Token | None = None) -> _Invalid:
        index = self.index if token is None else self.tokens.index(token)
        return _Invalid(_syntax_error(self.expression, self.tokens, index))

    def at(self, text: str, ahead: int = 0) -> bool:
        token = self.peek(ahead)
        return token.kind == "op" and token.text == text

    def expect(self, text: str) -> None:
        if not self.at(text):
            raise self.error()
        self.index += 1

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token.kind == "name" and token.text.upper() == word:
            self.index += 1
            return True
        return False

    def end(self) -> None:
        if self.peek().kind != "end":
            raise self.error()

    def is_call(self) -> bool:
        return self.peek().kind == "name" and self.at("(", 1)

    # paths and operands

    def name(self) -> str:
        token = self.take()
        if token.kind == "hash" or (token.kind == "name" and token.text.upper() not in _KEYWORDS):
            return token.text
        raise self.error(token)

    def path(self) -> _Path:
        if self.is_call():
            raise _Invalid(
                f"Operator or function requires a document path; operator or function: {self.peek().text}"
            )
        elements: list[Element] = [self.name()]
        while True:
            if self.at("."):
                self.index += 1
                elements.append(self.name())
            elif self.at("["):
                self.index += 1
                token = self.take()
                if token.kind != "number":
                    raise self.error(token)
                elements.append(int(token.text))
                self.expect("]")
            else:
                return _Path(tuple(elements))

    def call(self, allowed: Mapping[str, int], where: str) -> _Call:
        token = self.take()
        function = token.text
        if function not in _ALL_FUNCTIONS:
            raise _Invalid(f"Invalid function name; function: {function}")
        if function not in allowed:
            raise _Invalid(f"The function is not allowed {where}; function: {function}")
        self.expect("(")
        args = [self.argument(function, 0)]
        while self.at(","):
            self.index += 1
            args.append(self.argument(function, len(args)))
        self.expect(")")
        if len(args) != allowed[function]:
            raise _Invalid(
                "Incorrect number of operands for operator or function; "
                f"operator or function: {function}, number of operands: {len(args)}"
            )
        return _Call(function, tuple(args))

    def argument(self, function: str, position: int) -> _Node:
        if position == 0 and function != "list_append":
            return self.path()
        if function == "attribute_type" and position == 1:
            token = self.peek()
            if token.kind != "value":
                raise _Invalid(
                    "Incorrect operand type for operator or function; operator or function: attribute_type, "
                    "operand type: path"
                )
            self.index += 1
            return _Value(token.text)
        if function == "if_not_exists":
            return self.update_value()
        if function == "list_append":
            return self.update_operand()
        return self.condition_operand()

    def condition_operand(self) -> _Node:
        token = self.peek()
        if token.kind == "value":
            self.index += 1
            return _Value(token.text)
        if self.is_call():
            return self.call({"size": 1}, "to be used this way in an expression")
        return self.path()

    # conditions: OR binds loosest, then AND, then NOT

    def condition(self) -> _Node:
        node = self.conjunction()
        while self.keyword("OR"):
            node = _Logic("OR", node, self.conjunction())
        return node

    def conjunction(self) -> _Node:
        node = self.negation()
        while self.keyword("AND"):
            node = _Logic("AND", node, self.negation())
        return node

    def negation(self) -> _Node:
        if self.keyword("NOT"):
            return _Not(self.negation())
        return self.predicate()

    def predicate(self) -> _Node:
        if self.at("("):
            self.index += 1
            node = self.condition()
            self.expect(")")
            return node
        if self.is_call() and self.peek().text in _CONDITION_FUNCTIONS:
            return self.call(_CONDITION_FUNCTIONS, "in a condition expression")
        subject = self.condition_operand()
        token = self.peek()
        if token.kind == "op" and token.text in _COMPARATORS:
            self.index += 1
            return _Compare(token.text, subject, self.condition_operand())
        if self.keyword("BETWEEN"):
            low = self.condition_operand()
            if not self.keyword("AND"):
                raise self.error()
            return _Between(subject, low, self.condition_operand())
        if self.keyword("IN"):
            self.expect("(")
            options = [self.condition_operand()]
            while self.at(","):
                self.index += 1
                options.append(self.condition_operand())
            self.expect(")")
            if len(options) > 100:
                raise _Invalid(
                    f"The IN operator is provided with too many operands; number of operands: {len(options)}"
                )
            return _In(subject, tuple(options))
        raise self.error()

    # updates: SET path = value, REMOVE path, ADD path :value, DELETE path :value

    def update_operand(self) -> _Node:
        token = self.peek()
        if token.kind == "value":
            self.index += 1
            return _Value(token.text)
        if self.is_call():
            return self.call(_UPDATE_FUNCTIONS, "in an update expression")
        return self.path()

    def update_value(self) -> _Node:
        left = self.update_operand()
        if self.at("+") or self.at("-"):
            op = self.take().text
            return _Arithmetic(op, left, self.update_operand())
        return left

    def update(self) -> list[tuple[str, _Path, _Node | None]]:
        actions: list[tuple[str, _Path, _Node | None]] = []
        seen: set[str] = set()
        while True:
            token = self.peek()
            clause = token.text.upper() if token.kind == "name" else ""
            if clause not in ("SET", "REMOVE", "ADD", "DELETE"):
                raise self.error()
            if clause in seen:
                raise _Invalid(f'The "{clause}" section can only be used once in an update expression;')
            seen.add(clause)
            self.index += 1
            while True:
                path = self.path()
                if clause == "SET":
                    self.expect("=")
                    actions.append((clause, path, self.update_value()))
                elif clause == "REMOVE":
                    actions.append((clause, path, None))
                else:
                    value = self.take()
                    if value.kind != "value":
                        raise self.error(value)
                    actions.append((clause, path, _Value(value.text)))
                if not self.at(","):
                    break
                self.index += 1
            if self.peek().kind == "end":
                return actions


# --- evaluation --------------------------------------------------------------------------------------------

Getter = Callable[[Item, Names, Values], AttributeValue | None]
Test = Callable[[Item, Names, Values], bool]
Check = Callable[[Values], None]


def _path_getter(elements: tuple[Element, ...]) -> Getter:
    if len(elements) == 1:
        (name,) = elements
        assert isinstance(name, str)  # noqa: S101 -- a path starts with a name, by the grammar
        if name[0] == "#":
            return lambda item, names, values: item.get(names[name])
        return lambda item, names, values: item.get(name)
    return lambda item, names, values: _lookup(item, _resolve(elements, names))


def _operand_getter(node: _Node) -> Getter:
    if isinstance(node, _Value):
        key = node.key
        return lambda item, names, values: values[key]
    if isinstance(node, _Path):
        return _path_getter(node.elements)
    assert isinstance(node, _Call) and node.function == "size"  # noqa: S101 -- by the grammar
    assert isinstance(node.args[0], _Path)  # noqa: S101
    of = _path_getter(node.args[0].elements)
    return lambda item, names, values: _size(of(item, names, values))


def _type_check(node: _Node, operator: str, allowed: frozenset[str]) -> list[Check]:
    """A constant operand of the wrong type is refused before anything is evaluated, as DynamoDB does."""
    if not isinstance(node, _Value):
        return []
    key = node.key

    def check(values: Values) -> None:
        tag = _tag(values[key])
        if tag not in allowed:
            raise _Invalid(
                f"Incorrect operand type for operator or function; operator or function: {operator}, "
                f"operand type: {tag}"
            )

    return [check]


def _bounds_check(low: _Node, high: _Node) -> list[Check]:
    if not (isinstance(low, _Value) and isinstance(high, _Value)):
        return []
    low_key, high_key = low.key, high.key

    def check(values: Values) -> None:
        lower, upper = values[low_key], values[high_key]
        order = _order(lower, upper)
        if order is None:
            raise _Invalid(
                "The BETWEEN operator requires same data type for lower and upper bounds; "
                f"lower bound operand: {_describe(lower)}, upper bound operand: {_describe(upper)}"
            )
        if order > 0:
            raise _Invalid(
                "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "
                f"lower bound operand: {_describe(lower)}, upper bound operand: {_describe(upper)}"
            )

    return [check]


_ORDERS: dict[str, Callable[[int], bool]] = {
    "<": lambda order: order < 0,
    "<=": lambda order: order <= 0,
    ">": lambda order: order > 0,
    ">=": lambda order: order >= 0,
}


def _compile_condition(node: _Node, checks: list[Check]) -> Test:
    if isinstance(node, _Logic):
        left, right = _compile_condition(node.left, checks), _compile_condition(node.right, checks)
        if node.op == "AND":
            return lambda item, names, values: left(item, names, values) and right(item, names, values)
        return lambda item, names, values: left(item, names, values) or right(item, names, values)
    if isinstance(node, _Not):
        inner = _compile_condition(node.operand, checks)
        return lambda item, names, values: not inner(item, names, values)
    if isinstance(node, _Compare):
        return _compile_compare(node, checks)
    if isinstance(node, _Between):
        for operand in (node.subject, node.low, node.high):
            checks += _type_check(operand, "BETWEEN", _SCALAR_TYPES)
        checks += _bounds_check(node.low, node.high)
        subject, low, high = (_operand_getter(n) for n in (node.subject, node.low, node.high))

        def between(item: Item, names: Names, values: Values) -> bool:
            value, lower, upper = (
                subject(item, names, values),
                low(item, names, values),
                high(item, names, values),
            )
            if value is None or lower is None or upper is None:
                return False
            above, below = _order(value, lower), _order(value, upper)
            return above is not None and below is not None and above >= 0 and below <= 0

        return between
    if isinstance(node, _In):
        subject = _operand_getter(node.subject)
        options = [_operand_getter(n) for n in node.options]

        def within(item: Item, names: Names, values: Values) -> bool:
            value = subject(item, names, values)
            if value is None:
                return False
            for option in options:
                candidate = option(item, names, values)
                if candidate is not None and _equal(value, candidate):
                    return True
            return False

        return within
    assert isinstance(node, _Call)  # noqa: S101 -- the grammar allows nothing else here
    return _compile_function(node, checks)


def _compile_compare(node: _Compare, checks: list[Check]) -> Test:
    op = node.op
    left, right = _operand_getter(node.left), _operand_getter(node.right)
    if op in ("=", "<>"):
        unequal = op == "<>"

        def equality(item: Item, names: Names, values: Values) -> bool:
            a, b = left(item, names, values), right(item, names, values)
            # A missing operand equals nothing, so `<>` holds for it (as `a <> :v` does on an item without a).
            if a is None or b is None:
                return unequal
            return _equal(a, b) is not unequal

        return equality
    checks += _type_check(node.left, op, _SCALAR_TYPES) + _type_check(node.right, op, _SCALAR_TYPES)
    holds = _ORDERS[op]

    def ordering(item: Item, names: Names, values: Values) -> bool:
        a, b = left(item, names, values), right(item, names, values)
        if a is None or b is None:
            return False
        order = _order(a, b)
        return order is not None and holds(order)

    return ordering


def _compile_function(node: _Call, checks: list[Check]) -> Test:
    path = node.args[0]
    assert isinstance(path, _Path)  # noqa: S101 -- by the grammar
    target = _path_getter(path.elements)
    function = node.function
    if function == "attribute_exists":
        return lambda item, names, values: target(item, names, values) is not None
    if function == "attribute_not_exists":
        return lambda item, names, values: target(item, names, values) is None
    operand = node.args[1]
    if function == "attribute_type":
        assert isinstance(operand, _Value)  # noqa: S101 -- by the grammar
        key = operand.key

        def check(values: Values) -> None:
            wanted = values[key]
            if _tag(wanted) != "S" or wanted["S"] not in _TYPE_NAMES:
                raise _Invalid(
                    f"Invalid attribute type name found in type: {wanted.get('S', _tag(wanted))} "
                    f"for attribute name: {'.'.join(map(str, path.elements))}"
                )

        checks.append(check)

        def has_type(item: Item, names: Names, values: Values) -> bool:
            value = target(item, names, values)
            return value is not None and _tag(value) == values[key]["S"]

        return has_type
    other = _operand_getter(operand)
    if function == "begins_with":
        checks += _type_check(operand, "begins_with", frozenset({"S", "B"}))

        def begins_with(item: Item, names: Names, values: Values) -> bool:
            value, prefix = target(item, names, values), other(item, names, values)
            if value is None or prefix is None:
                return False
            tag = _tag(value)
            if tag != _tag(prefix):
                return False
            if tag == "S":
                return bool(value["S"].startswith(prefix["S"]))
            return tag == "B" and _bytes(value["B"]).startswith(_bytes(prefix["B"]))

        return begins_with
    assert function == "contains"  # noqa: S101 -- the only function left

    def contains(item: Item, names: Names, values: Values) -> bool:
        value, part = target(item, names, values), other(item, names, values)
        return value is not None and part is not None and _contains(value, part)

    return contains


def _contains(value: AttributeValue, part: AttributeValue) -> bool:
    tag, part_tag = _tag(value), _tag(part)
    if tag == "S":
        return part_tag == "S" and part["S"] in value["S"]
    if tag == "B":
        return part_tag == "B" and _bytes(part["B"]) in _bytes(value["B"])
    if tag in _SET_TYPES:
        if part_tag != tag[0]:
            return False
        wanted = _element_key(tag, part[part_tag])
        return any(_element_key(tag, e) == wanted for e in value[tag])
    if tag == "L":
        return any(_equal(e, part) for e in value["L"])
    return False


@dataclass(frozen=True)
class _Compiled:
    """What every kind of expression shares: its placeholders and the checks on its constant operands."""

    names: frozenset[str]
    values: frozenset[str]
    checks: tuple[Check, ...]

    def prepare(self, names: Names, values: Values) -> None:
        if self.names and not names.keys() >= self.names:
            missing = sorted(self.names - names.keys())[0]
            raise _Invalid(
                "An expression attribute name used in the document path is not defined; "
                f"attribute name: {missing}"
            )
        if self.values and not values.keys() >= self.values:
            missing = sorted(self.values - values.keys())[0]
            raise _Invalid(
                f"An expression attribute value used in expression is not defined; attribute value: {missing}"
            )
        for check in self.checks:
            check(values)


def _placeholders(expression: str) -> tuple[frozenset[str], frozenset[str]]:
    tokens = _tokens(expression)
    return (
        frozenset(t.text for t in tokens if t.kind == "hash"),
        frozenset(t.text for t in tokens if t.kind == "value"),
    )


@dataclass(frozen=True)
class _Condition(_Compiled):
    test: Test


@functools.lru_cache(maxsize=1024)
def _parse_condition(expression: str) -> _Condition:
    parser = _Parser(expression)
    tree = parser.condition()
    parser.end()
    checks: list[Check] = []
    test = _compile_condition(tree, checks)
    return _Condition(*_placeholders(expression), tuple(checks), test)


def condition_holds(
    expression: str,
    item: Item | None,
    names: Names | None,
    values: Values | None,
    *,
    kind: str = "ConditionExpression",
) -> bool:
    """Whether a ConditionExpression (or, with kind="FilterExpression", a filter) holds for `item`; None is
    no item, on which every attribute is missing. `kind` only names the expression in error messages."""
    names = names or {}
    values = values or {}
    try:
        condition = _parse_condition(expression)
        condition.prepare(names, values)
        return bool(condition.test(item or {}, names, values))
    except _Invalid as exc:
        raise ExpressionError(f"Invalid {kind}: {exc}") from None


# --- updates -------------------------------------------------------------------------------------------

_NOT_IN_ITEM = "The provided expression refers to an attribute that does not exist in the item"
_WRONG_TYPE = "An operand in the update expression has an incorrect data type"
_BAD_PATH = "The document path provided in the update expression is invalid for update"


def _compile_update_value(node: _Node) -> Getter:
    """A SET's right-hand side; it sees the item as it was before the update, as DynamoDB's does."""
    if isinstance(node, _Value):
        key = node.key
        return lambda item, names, values: values[key]
    if isinstance(node, _Path):
        get = _path_getter(node.elements)

        def present(item: Item, names: Names, values: Values) -> AttributeValue:
            value = get(item, names, values)
            if value is None:
                raise ExpressionError(_NOT_IN_ITEM)
            return value

        return present
    if isinstance(node, _Arithmetic):
        left, right, op = _compile_update_value(node.left), _compile_update_value(node.right), node.op

        def arithmetic(item: Item, names: Names, values: Values) -> AttributeValue:
            a, b = left(item, names, values), right(item, names, values)
            if a is None or b is None or "N" not in a or "N" not in b:
                raise ExpressionError(_WRONG_TYPE)
            return {"N": _arithmetic(op, a["N"], b["N"])}

        return arithmetic
    assert isinstance(node, _Call)  # noqa: S101 -- by the grammar
    if node.function == "if_not_exists":
        path = node.args[0]
        assert isinstance(path, _Path)  # noqa: S101
        current, fallback = _path_getter(path.elements), _compile_update_value(node.args[1])

        def if_not_exists(item: Item, names: Names, values: Values) -> AttributeValue | None:
            value = current(item, names, values)
            return value if value is not None else fallback(item, names, values)

        return if_not_exists
    first, second = (_compile_update_value(arg) for arg in node.args)

    def list_append(item: Item, names: Names, values: Values) -> AttributeValue:
        a, b = first(item, names, values), second(item, names, values)
        if a is None or b is None or "L" not in a or "L" not in b:
            raise ExpressionError(_WRONG_TYPE)
        return {"L": [*a["L"], *b["L"]]}

    return list_append


@dataclass(frozen=True)
class _Action:
    clause: str  # SET, REMOVE, ADD, DELETE
    path: tuple[Element, ...]
    value: Getter | None  # SET: the new value; ADD, DELETE: the operand; REMOVE: None


@dataclass(frozen=True)
class _Update(_Compiled):
    actions: tuple[_Action, ...]
    indexes_lists: bool  # whether a path names a list element (placeholders never do)


def _operand_type_check(node: _Node | None, clause: str, allowed: frozenset[str]) -> list[Check]:
    assert isinstance(node, _Value)  # noqa: S101 -- ADD and DELETE take a value, by the grammar
    key = node.key

    def check(values: Values) -> None:
        tag = _tag(values[key])
        if tag not in allowed:
            raise _Invalid(
                "Incorrect operand type for operator or function; "
                f"operator: {clause}, operand type: {_HUMAN_TYPES.get(tag, tag)}"
            )

    return [check]


@functools.lru_cache(maxsize=1024)
def _parse_update(expression: str) -> _Update:
    parser = _Parser(expression)
    checks: list[Check] = []
    actions = []
    for clause, path, node in parser.update():
        value: Getter | None = None
        if clause == "SET":
            assert node is not None  # noqa: S101
            value = _compile_update_value(node)
        elif clause == "ADD":
            checks += _operand_type_check(node, clause, _SET_TYPES | {"N"})
            value = _operand_getter(node) if node else None
        elif clause == "DELETE":
            checks += _operand_type_check(node, clause, _SET_TYPES)
            value = _operand_getter(node) if node else None
        actions.append(_Action(clause, path.elements, value))
    indexes_lists = any(type(e) is int for action in actions for e in action.path)
    return _Update(*_placeholders(expression), tuple(checks), tuple(actions), indexes_lists)


def _check_paths(paths: list[tuple[Element, ...]]) -> None:
    """DynamoDB refuses two paths where one is (or leads into) the other, or where one indexes a list the
    other treats as a map."""
    # Only paths under one top-level attribute can clash, and most updates touch each attribute once.
    by_attribute: dict[Element, list[tuple[Element, ...]]] = {}
    for path in paths:
        by_attribute.setdefault(path[0], []).append(path)
    if len(by_attribute) == len(paths):
        return
    for group in by_attribute.values():
        for i, path in enumerate(group):
            for other in group[:i]:
                _check_pair(other, path)


def _check_pair(one: tuple[Element, ...], two: tuple[Element, ...]) -> None:
    for a, b in zip(one, two, strict=False):
        if a != b:
            if type(a) is not type(b):
                raise _Invalid(
                    "Two document paths conflict with each other; must remove or rewrite one of these paths; "
                    f"path one: {_show(one)}, path two: {_show(two)}"
                )
            return
    raise _Invalid(
        "Two document paths overlap with each other; must remove or rewrite one of these paths; "
        f"path one: {_show(one)}, path two: {_show(two)}"
    )


def _added(current: AttributeValue | None, operand: AttributeValue) -> AttributeValue:
    tag = _tag(operand)
    if current is None:
        return {"N": canonical_number(operand["N"])} if tag == "N" else {tag: list(operand[tag])}
    if _tag(current) != tag:
        raise ExpressionError(_WRONG_TYPE)
    if tag == "N":
        return {"N": _arithmetic("+", current["N"], operand["N"])}
    elements = list(current[tag])
    seen = {_element_key(tag, e) for e in elements}
    for element in operand[tag]:
        key = _element_key(tag, element)
        if key not in seen:
            seen.add(key)
            elements.append(element)
    return {tag: elements}


def _deleted(current: AttributeValue, operand: AttributeValue) -> AttributeValue | None:
    tag = _tag(operand)
    if _tag(current) != tag:
        raise ExpressionError(_WRONG_TYPE)
    gone = {_element_key(tag, e) for e in operand[tag]}
    kept = [e for e in current[tag] if _element_key(tag, e) not in gone]
    return {tag: kept} if kept else None  # DynamoDB has no empty sets: the attribute goes


def _path_order(path: tuple[Element, ...]) -> tuple[tuple[int, Any], ...]:
    return tuple((0, e) if type(e) is int else (1, e) for e in path)


def _write(item: Item, path: tuple[Element, ...], value: AttributeValue | None, copied: set[int]) -> None:
    """Put `value` at `path` in `item` (None removes), copying each container on the way the first time
    this update touches it; `copied` holds the ids of the containers this update made."""
    container: Any = item
    key: Element = path[0]
    for element in path[1:]:
        child = (
            container.get(key)
            if isinstance(container, dict)
            else (
                container[key] if key < len(container) else None  # type: ignore[operator]
            )
        )
        inner_tag = "L" if type(element) is int else "M"
        inner = None if child is None else child.get(inner_tag)
        if inner is None:
            # Even a REMOVE needs the containers up to its last element (as DynamoDB does).
            raise ExpressionError(_BAD_PATH)
        if id(inner) not in copied:
            inner = list(inner) if inner_tag == "L" else dict(inner)
            copied.add(id(inner))
            container[key] = {inner_tag: inner}
        container, key = inner, element
    if isinstance(container, dict):
        if value is None:
            container.pop(key, None)
        else:
            container[key] = value
    else:
        assert type(key) is int  # noqa: S101 -- a list's element is named by an index
        if value is None:
            if key < len(container):
                del container[key]
        elif key < len(container):
            container[key] = value
        else:
            container.append(value)  # past the end appends, as DynamoDB does


def apply_update(expression: str, item: Item, names: Names | None, values: Values | None) -> Item:
    """The item after an UpdateExpression; `item` is the stored one, or just the key of one not yet stored.
    A new item: `item` is left as it was, and what the update did not change is shared with it."""
    item = item or {}
    names = names or {}
    values = values or {}
    try:
        update = _parse_update(expression)
        update.prepare(names, values)
        paths = [_resolve(action.path, names) for action in update.actions]
        _check_paths(paths)
    except _Invalid as exc:
        raise ExpressionError(f"Invalid UpdateExpression: {exc}") from None
    # Every action sees the item as it was (paths never overlap), so compute all, then write.
    writes: list[tuple[tuple[Element, ...], AttributeValue | None]] = []
    for action, path in zip(update.actions, paths, strict=True):
        clause = action.clause
        if clause == "REMOVE":
            writes.append((path, None))
            continue
        assert action.value is not None  # noqa: S101
        operand = action.value(item, names, values)
        if clause == "SET":
            writes.append((path, operand))
        elif clause == "ADD":
            assert operand is not None  # noqa: S101
            writes.append((path, _added(_lookup(item, path), operand)))
        else:
            current = _lookup(item, path)
            # Deleting from a set that is not there changes nothing, but its containers must exist: the
            # removal that stands in for it checks them.
            assert operand is not None  # noqa: S101
            writes.append((path, None if current is None else _deleted(current, operand)))
    if update.indexes_lists:
        # List indexes name the elements as they were: appends land in index order, and removals go from
        # the last index to the first so none shifts another.
        writes = sorted((w for w in writes if w[1] is not None), key=lambda w: _path_order(w[0])) + sorted(
            (w for w in writes if w[1] is None), key=lambda w: _path_order(w[0]), reverse=True
        )
    result = dict(item)
    copied: set[int] = set()
    for path, value in writes:
        _write(result, path, value, copied)
    return result


# --- projections ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Projection(_Compiled):
    paths: tuple[tuple[Element, ...], ...]


@functools.lru_cache(maxsize=1024)
def _parse_projection(expression: str) -> _Projection:
    parser = _Parser(expression)
    paths = [parser.path().elements]
    while parser.at(","):
        parser.index += 1
        paths.append(parser.path().elements)
    parser.end()
    return _Projection(*_placeholders(expression), (), tuple(paths))


_WHOLE: dict = {}  # a leaf of the projection tree: the whole value


def _project(value: AttributeValue, tree: dict) -> AttributeValue | None:
    if tree is _WHOLE:
        return value
    if type(next(iter(tree))) is int:
        items = value.get("L")
        if items is None:
            return None
        picked = [_project(items[i], tree[i]) for i in sorted(tree) if i < len(items)]
        kept = [p for p in picked if p is not None]
        return {"L": kept} if kept else None
    entries = value.get("M")
    if entries is None:
        return None
    found = {k: _project(entries[k], sub) for k, sub in tree.items() if k in entries}
    kept_entries = {k: v for k, v in found.items() if v is not None}
    return {"M": kept_entries} if kept_entries else None


def project(expression: str, item: Item, names: Names | None) -> Item:
    """The part of `item` a ProjectionExpression names; paths that lead nowhere are left out."""
    names = names or {}
    try:
        projection = _parse_projection(expression)
        projection.prepare(names, {})
        paths = [_resolve(path, names) for path in projection.paths]
        _check_paths(paths)
    except _Invalid as exc:
        raise ExpressionError(f"Invalid ProjectionExpression: {exc}") from None
    tree: dict = {}
    for path in paths:
        node = tree
        for element in path[:-1]:
            node = node.setdefault(element, {})
        node[path[-1]] = _WHOLE
    result = {}
    for name, sub in tree.items():
        if name in item:
            picked = _project(item[name], sub)
            if picked is not None:
                result[name] = picked
    return result


# --- key conditions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyCondition:
    """A Query's KeyConditionExpression, its placeholders resolved: the partition key's value, and the
    sort key's condition if there is one (range_op is =, <, <=, >, >=, BETWEEN or begins_with)."""

    hash_name: str
    hash_value: dict
    range_name: str | None
    range_op: str | None
    range_values: tuple[dict, ...]


_FLIPPED = {"=": "=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass(frozen=True)
class _KeyPart:
    name: str  # as written: a name or a placeholder
    op: str
    values: tuple[str, ...]  # value placeholders


def _key_part(node: _Node) -> _KeyPart:
    if isinstance(node, _Compare):
        if node.op not in _FLIPPED:
            raise _Invalid(f"Unsupported operator on KeyConditionExpression: operator: {node.op}")
        left, right, op = node.left, node.right, node.op
        if isinstance(left, _Value) and not isinstance(right, _Value):
            left, right, op = right, left, _FLIPPED[op]
        if not isinstance(right, _Value):
            raise _Invalid(
                "Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition"
            )
        return _KeyPart(_key_name(left), op, (right.key,))
    if isinstance(node, _Between):
        if not (isinstance(node.low, _Value) and isinstance(node.high, _Value)):
            raise _Invalid("Invalid condition in KeyConditionExpression: the BETWEEN bounds must be values")
        return _KeyPart(_key_name(node.subject), "BETWEEN", (node.low.key, node.high.key))
    if isinstance(node, _Call) and node.function == "begins_with":
        if not isinstance(node.args[1], _Value):
            raise _Invalid(
                "Invalid condition in KeyConditionExpression: the begins_with prefix must be a value"
            )
        return _KeyPart(_key_name(node.args[0]), "begins_with", (node.args[1].key,))
    if isinstance(node, _Logic | _Not):
        raise _Invalid(
            f"Invalid operator used in KeyConditionExpression: {'NOT' if isinstance(node, _Not) else node.op}"
        )
    if isinstance(node, _In):
        raise _Invalid("Invalid operator used in KeyConditionExpression: IN")
    function = node.function if isinstance(node, _Call) else "?"
    raise _Invalid(f"Invalid operator used in KeyConditionExpression: {function}")


def _key_name(node: _Node) -> str:
    if isinstance(node, _Call) and node.function == "size":
        raise _Invalid("Invalid operator used in KeyConditionExpression: size")
    if not isinstance(node, _Path):
        raise _Invalid("Invalid condition in KeyConditionExpression: No attribute name used in the condition")
    if len(node.elements) != 1:
        raise _Invalid("KeyConditionExpressions cannot have conditions on nested attributes")
    name = node.elements[0]
    assert isinstance(name, str)  # noqa: S101 -- by the grammar
    return name


@dataclass(frozen=True)
class _KeyExpression(_Compiled):
    parts: tuple[_KeyPart, ...]


@functools.lru_cache(maxsize=1024)
def _parse_key(expression: str) -> _KeyExpression:
    parser = _Parser(expression)
    tree = parser.condition()
    parser.end()
    nodes = [tree]
    while any(isinstance(n, _Logic) and n.op == "AND" for n in nodes):
        flat: list[_Node] = []
        for n in nodes:
            flat += [n.left, n.right] if isinstance(n, _Logic) and n.op == "AND" else [n]
        nodes = flat
    if len(nodes) > 2:
        raise _Invalid("KeyConditionExpressions must only contain one condition per key")
    parts = tuple(_key_part(n) for n in nodes)
    checks: list[Check] = []
    for part, node in zip(parts, nodes, strict=True):
        if part.op == "begins_with":
            assert isinstance(node, _Call)  # noqa: S101
            checks += _type_check(node.args[1], "begins_with", frozenset({"S", "B"}))
        elif part.op == "BETWEEN":
            assert isinstance(node, _Between)  # noqa: S101
            checks += _bounds_check(node.low, node.high)
    return _KeyExpression(*_placeholders(expression), tuple(checks), parts)


def key_condition(
    expression: str, names: Names | None, values: Values | None, *, hash_key: str | None = None
) -> KeyCondition:
    """A KeyConditionExpression taken apart. With `hash_key` (the table's or index's partition key) the
    condition on it is the hash one; without it, the equality condition (the first, if both are)."""
    names = names or {}
    values = values or {}
    try:
        parsed = _parse_key(expression)
        parsed.prepare(names, values)
        parts = [(names.get(p.name, p.name) if p.name[0] == "#" else p.name, p) for p in parsed.parts]
        if len(parts) == 2 and parts[0][0] == parts[1][0]:
            raise _Invalid("KeyConditionExpressions must only contain one condition per key")
        if hash_key is not None:
            hashes = [pair for pair in parts if pair[0] == hash_key]
            if not hashes:
                raise ExpressionError(f"Query condition missed key schema element: {hash_key}")
        else:
            hashes = [pair for pair in parts if pair[1].op == "="][:1] or parts[:1]
        hash_name, hash_part = hashes[0]
        if hash_part.op != "=":
            raise ExpressionError("Query key condition not supported")
        ranges = [pair for pair in parts if pair is not hashes[0]]
    except _Invalid as exc:
        raise ExpressionError(f"Invalid KeyConditionExpression: {exc}") from None
    for name, part in parts:
        for key in part.values:
            value = values[key]
            if value.get("S") == "" or value.get("B") in ("", b""):
                raise ExpressionError(
                    "One or more parameter values are not valid. The AttributeValue for a key attribute "
                    f"cannot contain an empty string value. Key: {name}"
                )
    if not ranges:
        return KeyCondition(hash_name, values[hash_part.values[0]], None, None, ())
    range_name, range_part = ranges[0]
    return KeyCondition(
        hash_name,
        values[hash_part.values[0]],
        range_name,
        range_part.op,
        tuple(values[key] for key in range_part.values),
    )
