"""Subscription filters: a small expression language, its parser and evaluator.

A subscription with a filter only receives the messages whose attributes (and routing key)
match it; the language follows Google Cloud Pub/Sub filters, with tests of the routing key
added for direct routing. Grammar (EBNF; keywords are case-sensitive,
whitespace is free between tokens)::

    filter     = [ or_expr ] ;                       (* empty text matches everything *)
    or_expr    = and_expr , { "OR" , and_expr } ;
    and_expr   = unary , { "AND" , unary } ;
    unary      = ( "NOT" | "-" ) , unary | primary ;
    primary    = "(" , or_expr , ")"
               | "attributes" , "." , key , ( "=" | "!=" ) , string
               | "attributes" , ":" , key
               | "hasPrefix" , "(" , "attributes" , "." , key , "," , string , ")"
               | "key" , ( "=" | "!=" ) , string
               | "hasPrefix" , "(" , "key" , "," , string , ")" ;
    key        = identifier | string ;
    identifier = letter_ , { letter_ | digit | "-" } ;   (* letter_ = [A-Za-z_] *)
    string     = '"' , { character - ( '"' | "\\" ) | escape } , '"' ;
    escape     = "\\" , ( '"' | "\\" | "n" | "t" ) ;

Semantics: ``=`` needs the key present with exactly that value; ``!=`` is true when the key
is absent or holds another value; ``hasPrefix`` needs the key present; ``attributes:KEY``
tests presence only. Bare ``key`` is the message's routing key (an attribute named "key"
is ``attributes.key``): ``key = "eu"`` needs that key, ``key != "eu"`` is true for a message
without a key too, ``hasPrefix(key, "eu-")`` needs a key. Where an attribute key is
expected, ``AND``, ``OR``, ``NOT``, ``attributes``, ``key`` and ``hasPrefix`` are ordinary
identifiers. ``NOT`` binds tightest, then ``AND``, then ``OR``; a
chain of ``AND`` (or ``OR``) becomes one n-ary node evaluated left to right, which is
equivalent to the left-associative reading because both operators are associative.

Limits: texts longer than :data:`MAX_FILTER_LENGTH` characters and nesting (parentheses and
negations) deeper than :data:`MAX_NESTING` are rejected, so hostile input can never exhaust
Python's recursion limit in the parser, in :meth:`Filter.matches` or in ``str()``.

The package is split by responsibility: :mod:`.lexer` turns text into tokens,
:mod:`.parser` builds the expression tree of :mod:`.expressions`, and :mod:`.rendering`
holds what turning a tree back into canonical text needs.
"""

from pubsubgo.core.filters.expressions import (
    MATCH_ALL,
    And,
    Equals,
    Expression,
    Filter,
    HasKey,
    HasPrefix,
    KeyEquals,
    KeyHasPrefix,
    KeyNotEquals,
    MatchAll,
    Not,
    NotEquals,
    Or,
)
from pubsubgo.core.filters.parser import MAX_FILTER_LENGTH, MAX_NESTING, parse_filter

__all__ = [
    "MATCH_ALL",
    "MAX_FILTER_LENGTH",
    "MAX_NESTING",
    "And",
    "Equals",
    "Expression",
    "Filter",
    "HasKey",
    "HasPrefix",
    "KeyEquals",
    "KeyHasPrefix",
    "KeyNotEquals",
    "MatchAll",
    "Not",
    "NotEquals",
    "Or",
    "parse_filter",
]
