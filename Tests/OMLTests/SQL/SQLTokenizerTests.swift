import OML
import Testing

/// A compact view of a token for table-driven expectations: kind and value.
struct SQLTokenSummary: Equatable, CustomStringConvertible {
    /// The token's kind.
    let kind: SQLToken.Kind
    /// The token's value.
    let value: String

    /// Creates a summary from a kind and a value.
    init(_ kind: SQLToken.Kind, _ value: String) {
        self.kind = kind
        self.value = value
    }

    /// A readable form for failure messages.
    var description: String { "\(kind)(\(value))" }
}

/// The kind and value of every token of `sql`.
func sqlTokenSummaries(_ sql: String) -> [SQLTokenSummary] {
    SQLTokenizer.tokenize(sql).map { SQLTokenSummary($0.kind, $0.value) }
}

/// The offset of the first occurrence of `needle` in `haystack`, counted in Unicode scalars.
func sqlScalarOffset(of needle: String, in haystack: String) -> Int? {
    let hay = Array(haystack.unicodeScalars)
    let pin = Array(needle.unicodeScalars)
    guard !pin.isEmpty, pin.count <= hay.count else { return nil }
    for start in 0...(hay.count - pin.count) where hay[start..<(start + pin.count)].elementsEqual(pin) {
        return start
    }
    return nil
}

/// Tests of the SQL tokenizer.
@Suite("SQL tokenizer")
struct SQLTokenizerTests {
    /// Checks that a simple statement has the right kinds, texts, offsets and lengths.
    @Test("a simple statement has the right kinds, texts, offsets and lengths")
    func simpleStatement() {
        let tokens = SQLTokenizer.tokenize("SELECT a, b.c FROM t;")
        #expect(tokens.map(\.kind) == [.word, .word, .punctuation, .word, .punctuation, .word, .word, .word, .semicolon])
        #expect(tokens.map(\.text) == ["SELECT", "a", ",", "b", ".", "c", "FROM", "t", ";"])
        #expect(tokens.map(\.offset) == [0, 7, 8, 10, 11, 12, 14, 19, 20])
        #expect(tokens.map(\.length) == [6, 1, 1, 1, 1, 1, 4, 1, 1])
    }

    /// Checks the tokens of each supported lexical form.
    @Test("tokens of the supported lexical forms", arguments: [
        // Comments are dropped, whatever they hide.
        ("SELECT 1 -- DROP TABLE x\n, 2", [SQLTokenSummary(.word, "SELECT"), .init(.number, "1"), .init(.punctuation, ","), .init(.number, "2")]),
        ("SELECT /* DELETE /* nested */ still comment */ 1", [.init(.word, "SELECT"), .init(.number, "1")]),
        ("SELECT 1--x", [.init(.word, "SELECT"), .init(.number, "1")]),
        // Strings.
        ("'it''s'", [.init(.string, "it's")]),
        ("''", [.init(.string, "")]),
        ("'a -- not a comment /* nor this */'", [.init(.string, "a -- not a comment /* nor this */")]),
        ("'C:\\path\\'", [.init(.string, "C:\\path\\")]),
        ("E'it\\'s\\n\\t\\\\'", [.init(.string, "it's\n\t\\")]),
        ("e'\\x41\\101\\u00e9\\q'", [.init(.string, "AAéq")]),
        ("E'a''b'", [.init(.string, "a'b")]),
        // Backslash escapes in plain strings only when the standard reading leaves a string open (MySQL).
        ("'O\\'Brien', 'x'", [.init(.string, "O'Brien"), .init(.punctuation, ","), .init(.string, "x")]),
        ("'a\\', 'b'", [.init(.string, "a\\"), .init(.punctuation, ","), .init(.string, "b")]),
        ("N'abc' X'FF' B'101'", [.init(.string, "abc"), .init(.string, "FF"), .init(.string, "101")]),
        ("$$it's; DROP$$", [.init(.string, "it's; DROP")]),
        ("$fn$ a $$ b $x$ c $fn$", [.init(.string, " a $$ b $x$ c ")]),
        ("$a$$a$", [.init(.string, "")]),
        // Quoted identifiers.
        ("\"Order \"\"Items\"\"\"", [.init(.quotedIdentifier, "Order \"Items\"")]),
        ("`my``table`", [.init(.quotedIdentifier, "my`table")]),
        ("\"\"", [.init(.quotedIdentifier, "")]),
        // Numbers.
        ("42 3.14 .5 1. 1e10 2.5E-3 7e+2 0xFF", [
            .init(.number, "42"), .init(.number, "3.14"), .init(.number, ".5"), .init(.number, "1."),
            .init(.number, "1e10"), .init(.number, "2.5E-3"), .init(.number, "7e+2"), .init(.number, "0xFF"),
        ]),
        ("1e", [.init(.number, "1"), .init(.word, "e")]),
        ("t.5", [.init(.word, "t"), .init(.punctuation, "."), .init(.number, "5")]),
        // Placeholders.
        ("LIMIT ${params.limit}", [.init(.word, "LIMIT"), .init(.parameter, "${params.limit}")]),
        ("${DB_NAME}", [.init(.parameter, "${DB_NAME}")]),
        ("'${params.since}'", [.init(.string, "${params.since}")]),
        ("orders_${params.suffix}", [.init(.word, "orders_"), .init(.parameter, "${params.suffix}")]),
        ("$1 + $23", [.init(.parameter, "$1"), .init(.op, "+"), .init(.parameter, "$23")]),
        // Words.
        ("foo$bar _x Straße", [.init(.word, "foo$bar"), .init(.word, "_x"), .init(.word, "Straße")]),
        // Punctuation and operators.
        ("(a)", [.init(.punctuation, "("), .init(.word, "a"), .init(.punctuation, ")")]),
        ("a::int>=1<>2||'x'", [
            .init(.word, "a"), .init(.op, "::"), .init(.word, "int"), .init(.op, ">="), .init(.number, "1"),
            .init(.op, "<>"), .init(.number, "2"), .init(.op, "||"), .init(.string, "x"),
        ]),
        ("a*-1", [.init(.word, "a"), .init(.op, "*"), .init(.op, "-"), .init(.number, "1")]),
        ("j->>'k' @> j2", [.init(.word, "j"), .init(.op, "->>"), .init(.string, "k"), .init(.op, "@>"), .init(.word, "j2")]),
        ("count(*)", [.init(.word, "count"), .init(.punctuation, "("), .init(.op, "*"), .init(.punctuation, ")")]),
        ("*/**/", [.init(.op, "*")]),
        ("a; ;", [.init(.word, "a"), .init(.semicolon, ";"), .init(.semicolon, ";")]),
        // MySQL executable comments are scanned as SQL.
        ("SELECT 1 /*!50000 STRAIGHT_JOIN */ 2", [.init(.word, "SELECT"), .init(.number, "1"), .init(.word, "STRAIGHT_JOIN"), .init(.number, "2")]),
        // Unicode white space separates tokens.
        ("a\u{00A0}b\u{2003}c\u{FEFF}", [.init(.word, "a"), .init(.word, "b"), .init(.word, "c")]),
        ("", []),
        ("  -- only a comment", []),
    ])
    func lexicalForms(sql: String, expected: [SQLTokenSummary]) {
        #expect(sqlTokenSummaries(sql) == expected)
    }

    /// Checks that unclosed constructs end with one unterminated token at their start.
    @Test("unclosed constructs end with one unterminated token at their start", arguments: [
        ("SELECT 'abc", 7),
        ("SELECT \"abc", 7),
        ("SELECT `abc", 7),
        ("SELECT 1 /* abc", 9),
        ("SELECT 1 /* a /* b */", 9),
        ("SELECT $$abc", 7),
        ("SELECT $tag$abc$tag", 7),
        ("SELECT ${params", 7),
        ("SELECT E'abc\\'", 7),
        ("SELECT E'abc\\", 7),
        ("'", 0),
        ("'it''", 0),
    ])
    func unterminated(sql: String, offset: Int) {
        let tokens = SQLTokenizer.tokenize(sql)
        let last = tokens.last
        #expect(last?.kind == .unterminated)
        #expect(last?.offset == offset)
        #expect(last?.end == sql.unicodeScalars.count)
        #expect(tokens.filter { $0.kind == .unterminated }.count == 1)
    }

    /// Checks that offsets and lengths count Unicode scalars, not bytes or characters.
    @Test("offsets and lengths count Unicode scalars, not bytes or characters")
    func unicodeOffsets() {
        // "🐎" is one scalar and four UTF-8 bytes; "e\u{301}" is one Character and two scalars.
        let sql = "SELECT '🐎 e\u{301}' AS \"naïve\", x FROM t"
        let tokens = SQLTokenizer.tokenize(sql)
        #expect(tokens.map(\.text) == ["SELECT", "'🐎 e\u{301}'", "AS", "\"naïve\"", ",", "x", "FROM", "t"])
        #expect(tokens.map(\.offset) == [0, 7, 14, 17, 24, 26, 28, 33])
        #expect(tokens[1].length == 6)
        #expect(tokens[3].value == "naïve")
    }

    /// Checks that a token's text is exactly the source between its offset and end.
    @Test("a token's text is exactly the source between its offset and end")
    func textMatchesSource() {
        let sql = "WITH x AS (SELECT E'a\\'b', $q$ ; $q$, \"Q\"\"x\", `b`, ${params.p}, 1.5e3 FROM t /* c */) SELECT * FROM x -- end"
        let scalars = Array(sql.unicodeScalars)
        for token in SQLTokenizer.tokenize(sql) {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[token.offset..<token.end])
            #expect(String(view) == token.text)
        }
    }

    /// Checks that a 1 MB query and pathological 1 MB inputs finish.
    @Test("a 1 MB query and pathological 1 MB inputs finish")
    func largeInputs() {
        let unit = "SELECT o.id, o.total, 'x''y' AS s, $$z$$ FROM orders o JOIN c ON o.c = c.id WHERE a >= ${params.since}; "
        let big = String(repeating: unit, count: 1_000_000 / unit.utf8.count + 1)
        #expect(SQLTokenizer.tokenize(big).count > 100_000)
        #expect(SQLTokenizer.tokenize(String(repeating: "(", count: 1_000_000)).count == 1_000_000)
        let unclosedString = "SELECT '" + String(repeating: "a", count: 1_000_000)
        #expect(SQLTokenizer.tokenize(unclosedString).last?.kind == .unterminated)
        let unclosedDollar = "$tag$" + String(repeating: "$ta", count: 350_000)
        #expect(SQLTokenizer.tokenize(unclosedDollar).last?.kind == .unterminated)
        #expect(!SQLTokenizer.tokenize(String(repeating: "-/*+", count: 250_000)).isEmpty)
    }
}
