/// One token of SQL source text, as produced by `SQLTokenizer.tokenize`.
package struct SQLToken: Sendable, Equatable {
    /// The lexical class of a token.
    package enum Kind: Sendable, Equatable {
        /// An unquoted identifier or keyword (`SELECT`, `orders`, `my$var`).
        case word
        /// A double-quoted (`"x"`) or backtick-quoted (`` `x` ``) identifier.
        case quotedIdentifier
        /// A string literal: `'x'`, `E'x'`, `N'x'`, `B'x'`, `X'x'`, `$$x$$` or `$tag$x$tag$`.
        case string
        /// A numeric literal: an integer, a decimal, a number with an exponent or a `0x` hex number.
        case number
        /// A placeholder: `${params.name}`, `${NAME}`, or a positional `$1`.
        case parameter
        /// One of `(`, `)`, `,` and `.`.
        case punctuation
        /// An operator or any other character that is not otherwise classified (`=`, `<>`, `::`, `*`).
        case op
        /// The statement separator `;`.
        case semicolon
        /// An unclosed string, quoted identifier, comment or placeholder running to the end of the text.
        case unterminated
    }

    /// The lexical class of the token.
    package let kind: Kind
    /// The raw source text of the token.
    package let text: String
    /// The meaning of the token: the unquoted name, the string content, or the raw text for other kinds.
    package let value: String
    /// The offset of the token's first character, in Unicode scalars from the start of the SQL text.
    package let offset: Int
    /// The length of the token's raw text, in Unicode scalars.
    package let length: Int

    /// Creates a token from its parts.
    package init(kind: Kind, text: String, value: String, offset: Int, length: Int) {
        self.kind = kind
        self.text = text
        self.value = value
        self.offset = offset
        self.length = length
    }

    /// The offset just after the token's last character, in Unicode scalars.
    package var end: Int { offset + length }
}

/// Splits SQL text into tokens without interpreting them, for any common dialect.
package enum SQLTokenizer {
    /// Returns the tokens of `sql` without whitespace and comments; an unclosed construct ends the list with one `.unterminated` token.
    ///
    /// Plain `'...'` strings follow the SQL standard (only `''` escapes). When that leaves the text
    /// unterminated and it contains a backslash, it is scanned again with MySQL's backslash escapes in
    /// plain strings, and that result is used if it closes every string (`'O\'Brien'`).
    package static func tokenize(_ sql: String) -> [SQLToken] {
        let scalars = Array(sql.unicodeScalars)
        var lexer = SQLLexer(scalars: scalars, backslashEscapesInPlainStrings: false)
        lexer.run()
        guard lexer.tokens.last?.kind == .unterminated, scalars.contains("\\") else { return lexer.tokens }
        var mysql = SQLLexer(scalars: scalars, backslashEscapesInPlainStrings: true)
        mysql.run()
        return mysql.tokens.last?.kind == .unterminated ? lexer.tokens : mysql.tokens
    }
}

/// The single-pass scanner behind `SQLTokenizer.tokenize`; every step consumes input, so it always terminates in linear time.
private struct SQLLexer {
    /// The SQL text as Unicode scalars, so that indices are the offsets the tokens report.
    let s: [Unicode.Scalar]
    /// The index of the next scalar to scan.
    var i = 0
    /// The tokens produced so far.
    var tokens: [SQLToken] = []
    /// How many MySQL executable comments (`/*! ... */`) are open, whose content is scanned as SQL.
    var executableCommentDepth = 0
    /// Whether a backslash escapes the next character in plain `'...'` strings too (MySQL's default).
    let backslashEscapesInPlainStrings: Bool

    /// Creates a scanner over the scalars of one SQL text.
    init(scalars: [Unicode.Scalar], backslashEscapesInPlainStrings: Bool) {
        s = scalars
        self.backslashEscapesInPlainStrings = backslashEscapesInPlainStrings
        tokens.reserveCapacity(scalars.count / 4 + 1)
    }

    /// The scalar at index `j`, or nil past the end.
    func at(_ j: Int) -> Unicode.Scalar? {
        j < s.count ? s[j] : nil
    }

    /// The source text between two indices.
    func text(_ from: Int, _ to: Int) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: s[from..<to])
        return String(view)
    }

    /// Appends a token spanning `from..<to`, whose value is its text unless given.
    mutating func emit(_ kind: SQLToken.Kind, _ from: Int, _ to: Int, value: String? = nil) {
        let raw = text(from, to)
        tokens.append(SQLToken(kind: kind, text: raw, value: value ?? raw, offset: from, length: to - from))
        i = to
    }

    /// Appends an `.unterminated` token from `from` to the end of the text and stops scanning.
    mutating func emitUnterminated(_ from: Int) {
        emit(.unterminated, from, s.count)
    }

    /// Scans the whole text.
    mutating func run() {
        while i < s.count {
            let c = s[i]
            if isSpace(c) {
                i += 1
                continue
            }
            switch c {
            case "-" where at(i + 1) == "-":
                skipLineComment()
            case "/" where at(i + 1) == "*":
                skipBlockComment()
            case "*" where executableCommentDepth > 0 && at(i + 1) == "/":
                executableCommentDepth -= 1
                i += 2
            case "'":
                scanString(start: i, bodyStart: i + 1, backslashEscapes: backslashEscapesInPlainStrings)
            case "\"", "`":
                scanQuotedIdentifier(quote: c)
            case "$":
                scanDollar()
            case "0"..."9":
                scanNumber()
            case "." where isDigit(at(i + 1)) && !followsName():
                scanNumber()
            case "(", ")", ",", ".":
                emit(.punctuation, i, i + 1)
            case ";":
                emit(.semicolon, i, i + 1)
            default:
                if isWordStart(c) {
                    scanWord()
                } else if isOperatorCharacter(c) {
                    scanOperator()
                } else {
                    emit(.op, i, i + 1)
                }
            }
        }
    }

    /// Whether the previous token ends right here and is a name or `)`, so that a `.` is a qualifier dot.
    func followsName() -> Bool {
        guard let last = tokens.last, last.end == i else { return false }
        return last.kind == .word || last.kind == .quotedIdentifier || last.text == ")"
    }

    /// Skips a `--` comment up to the end of its line.
    mutating func skipLineComment() {
        var j = i + 2
        while j < s.count, s[j] != "\n", s[j] != "\r" { j += 1 }
        i = j
    }

    /// Skips a (possibly nested) `/* */` comment, or opens a MySQL executable comment `/*!`.
    mutating func skipBlockComment() {
        if at(i + 2) == "!" {
            var j = i + 3
            while isDigit(at(j)) { j += 1 }
            executableCommentDepth += 1
            i = j
            return
        }
        var depth = 1
        var j = i + 2
        while j < s.count {
            if s[j] == "/", at(j + 1) == "*" {
                depth += 1
                j += 2
            } else if s[j] == "*", at(j + 1) == "/" {
                depth -= 1
                j += 2
                if depth == 0 {
                    i = j
                    return
                }
            } else {
                j += 1
            }
        }
        emitUnterminated(i)
    }

    /// Scans a single-quoted string whose opening quote is at `bodyStart - 1`, with `''` and optionally backslash escapes.
    mutating func scanString(start: Int, bodyStart: Int, backslashEscapes: Bool) {
        var value = String.UnicodeScalarView()
        var j = bodyStart
        while j < s.count {
            let c = s[j]
            if c == "'" {
                if at(j + 1) == "'" {
                    value.append("'")
                    j += 2
                    continue
                }
                emit(.string, start, j + 1, value: String(value))
                return
            }
            if backslashEscapes, c == "\\" {
                guard j + 1 < s.count else { break }
                j = decodeEscape(at: j + 1, into: &value)
                continue
            }
            value.append(c)
            j += 1
        }
        emitUnterminated(start)
    }

    /// Decodes the backslash escape whose first character (after the backslash) is at `k`, returning the index after it.
    func decodeEscape(at k: Int, into value: inout String.UnicodeScalarView) -> Int {
        let c = s[k]
        switch c {
        case "n": value.append("\n")
        case "t": value.append("\t")
        case "r": value.append("\r")
        case "b": value.append("\u{08}")
        case "f": value.append("\u{0C}")
        case "x":
            let (code, next) = number(from: k + 1, radix: 16, maxDigits: 2)
            guard next > k + 1 else { break }
            value.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            return next
        case "0"..."7":
            let (code, next) = number(from: k, radix: 8, maxDigits: 3)
            value.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            return next
        case "u", "U":
            let digits = c == "u" ? 4 : 8
            let (code, next) = number(from: k + 1, radix: 16, maxDigits: digits)
            guard next == k + 1 + digits else { break }
            value.append(Unicode.Scalar(code) ?? "\u{FFFD}")
            return next
        default:
            value.append(c)
        }
        if c == "x" || c == "u" || c == "U" { value.append(c) }
        return k + 1
    }

    /// Reads up to `maxDigits` digits of `radix` from `from`, returning their value and the index after them.
    func number(from: Int, radix: UInt32, maxDigits: Int) -> (UInt32, Int) {
        var code: UInt32 = 0
        var j = from
        while j < s.count, j - from < maxDigits, let d = digitValue(s[j]), d < radix {
            code = code &* radix &+ d
            j += 1
        }
        return (code, j)
    }

    /// Scans a `"..."` or `` `...` `` identifier in which a doubled quote stands for one.
    mutating func scanQuotedIdentifier(quote: Unicode.Scalar) {
        var value = String.UnicodeScalarView()
        var j = i + 1
        while j < s.count {
            if s[j] == quote {
                if at(j + 1) == quote {
                    value.append(quote)
                    j += 2
                    continue
                }
                emit(.quotedIdentifier, i, j + 1, value: String(value))
                return
            }
            value.append(s[j])
            j += 1
        }
        emitUnterminated(i)
    }

    /// Scans what starts with `$`: a `${...}` placeholder, a `$1` parameter, a dollar-quoted string, or a lone `$`.
    mutating func scanDollar() {
        let next = at(i + 1)
        if next == "{" {
            var j = i + 2
            while j < s.count, s[j] != "}" { j += 1 }
            if j < s.count {
                emit(.parameter, i, j + 1)
            } else {
                emitUnterminated(i)
            }
        } else if next == "$" {
            scanDollarQuoted(delimiterEnd: i + 2)
        } else if isDigit(next) {
            var j = i + 1
            while isDigit(at(j)) { j += 1 }
            emit(.parameter, i, j)
        } else if let n = next, isWordStart(n) {
            var j = i + 1
            while let c = at(j), isWordStart(c) || isDigit(c) { j += 1 }
            if at(j) == "$" {
                scanDollarQuoted(delimiterEnd: j + 1)
            } else {
                emit(.op, i, i + 1)
            }
        } else {
            emit(.op, i, i + 1)
        }
    }

    /// Scans a dollar-quoted string whose opening delimiter is `s[i..<delimiterEnd]`.
    mutating func scanDollarQuoted(delimiterEnd: Int) {
        let delimiter = s[i..<delimiterEnd]
        let length = delimiter.count
        var j = delimiterEnd
        while j < s.count {
            if s[j] == "$", j + length <= s.count, s[j..<(j + length)].elementsEqual(delimiter) {
                emit(.string, i, j + length, value: text(delimiterEnd, j))
                return
            }
            j += 1
        }
        emitUnterminated(i)
    }

    /// Scans an integer, decimal, exponent or hex number.
    mutating func scanNumber() {
        var j = i
        if s[j] == "0", at(j + 1) == "x" || at(j + 1) == "X", let h = at(j + 2), let d = digitValue(h), d < 16 {
            j += 2
            while let c = at(j), let d = digitValue(c), d < 16 { j += 1 }
            emit(.number, i, j)
            return
        }
        while isDigit(at(j)) { j += 1 }
        if at(j) == ".", at(j + 1) != "." {
            j += 1
            while isDigit(at(j)) { j += 1 }
        }
        if at(j) == "e" || at(j) == "E" {
            var k = j + 1
            if at(k) == "+" || at(k) == "-" { k += 1 }
            if isDigit(at(k)) {
                j = k
                while isDigit(at(j)) { j += 1 }
            }
        }
        emit(.number, i, j)
    }

    /// Scans a word, or a prefixed string literal (`E'..'`, `N'..'`, `B'..'`, `X'..'`).
    mutating func scanWord() {
        var j = i + 1
        while let c = at(j) {
            if isWordStart(c) || isDigit(c) {
                j += 1
            } else if c == "$", at(j + 1) != "{" {
                j += 1
            } else {
                break
            }
        }
        if j == i + 1, at(j) == "'" {
            switch s[i] {
            case "E", "e":
                scanString(start: i, bodyStart: j + 1, backslashEscapes: true)
                return
            case "N", "n", "B", "b", "X", "x":
                scanString(start: i, bodyStart: j + 1, backslashEscapes: backslashEscapesInPlainStrings)
                return
            default:
                break
            }
        }
        emit(.word, i, j)
    }

    /// Scans an operator: the longest run of operator characters, cut before a comment and trimmed the way PostgreSQL does.
    mutating func scanOperator() {
        var j = i + 1
        while let c = at(j), isOperatorCharacter(c) {
            let next = at(j + 1)
            if (c == "-" && next == "-") || (c == "/" && next == "*")
                || (c == "*" && next == "/" && executableCommentDepth > 0) {
                break
            }
            j += 1
        }
        if j - i > 1, s[j - 1] == "+" || s[j - 1] == "-" {
            let special = s[i..<j].contains { "~!@#%^&|`?".unicodeScalars.contains($0) }
            if !special {
                while j - i > 1, s[j - 1] == "+" || s[j - 1] == "-" { j -= 1 }
            }
        }
        emit(.op, i, j)
    }
}

/// Whether a scalar is white space (ASCII, Unicode white space, or a byte-order mark).
private func isSpace(_ c: Unicode.Scalar) -> Bool {
    switch c.value {
    case 0x20, 0x09...0x0D: return true
    case 0..<0x80: return false
    case 0xFEFF: return true
    default: return c.properties.isWhitespace
    }
}

/// Whether a scalar is an ASCII digit.
private func isDigit(_ c: Unicode.Scalar?) -> Bool {
    guard let c else { return false }
    return c.value >= 0x30 && c.value <= 0x39
}

/// The value of a hex digit (0-15), or nil.
private func digitValue(_ c: Unicode.Scalar) -> UInt32? {
    switch c {
    case "0"..."9": return c.value - 0x30
    case "a"..."f": return c.value - 0x61 + 10
    case "A"..."F": return c.value - 0x41 + 10
    default: return nil
    }
}

/// Whether a scalar can start a word: an ASCII letter, `_`, or any non-ASCII scalar that is not white space.
private func isWordStart(_ c: Unicode.Scalar) -> Bool {
    switch c {
    case "a"..."z", "A"..."Z", "_": return true
    default: return c.value >= 0x80 && !isSpace(c)
    }
}

/// Whether a scalar belongs to operators (PostgreSQL's operator characters plus `:`).
private func isOperatorCharacter(_ c: Unicode.Scalar) -> Bool {
    switch c {
    case "+", "-", "*", "/", "<", ">", "=", "~", "!", "@", "#", "%", "^", "&", "|", "?", ":": return true
    default: return false
    }
}
