/// The tokens of one SQL text together with the lookups the analyses make repeatedly.
struct SQLTokenStream {
    /// The tokens, as `SQLTokenizer.tokenize` returns them.
    let tokens: [SQLToken]
    /// The ASCII-uppercased value of each word token, and "" for every other kind.
    let keywords: [String]
    /// For each `(` the index of its matching `)` (`tokens.count` when it is never closed), and -1 elsewhere.
    let closing: [Int]

    /// Tokenizes `sql` and precomputes keywords and parenthesis matches in linear time.
    init(_ sql: String) {
        let tokens = SQLTokenizer.tokenize(sql)
        self.tokens = tokens
        keywords = tokens.map { $0.kind == .word ? SQLKeywords.uppercased($0.value) : "" }
        var closing = [Int](repeating: -1, count: tokens.count)
        var open: [Int] = []
        for (index, token) in tokens.enumerated() where token.kind == .punctuation {
            if token.text == "(" {
                open.append(index)
                closing[index] = tokens.count
            } else if token.text == ")", let opening = open.popLast() {
                closing[opening] = index
            }
        }
        self.closing = closing
    }

    /// The number of tokens.
    var count: Int { tokens.count }

    /// The uppercased keyword at `index`, or "" when it is not a word or out of range.
    func keyword(_ index: Int) -> String {
        index >= 0 && index < tokens.count ? keywords[index] : ""
    }

    /// Whether the token at `index` is the punctuation `mark` (one of `(`, `)`, `,`, `.`).
    func isPunctuation(_ index: Int, _ mark: String) -> Bool {
        index >= 0 && index < tokens.count && tokens[index].kind == .punctuation && tokens[index].text == mark
    }

    /// Whether the token at `index` can be a name: a quoted identifier, or a word that is not in `reserved`.
    func isName(_ index: Int, reserved: Set<String> = SQLKeywords.reserved) -> Bool {
        guard index >= 0, index < tokens.count else { return false }
        switch tokens[index].kind {
        case .quotedIdentifier: return true
        case .word: return !reserved.contains(keywords[index])
        default: return false
        }
    }

    /// The name at `index` folded for comparison: unquoted names lowercased, quoted names exact.
    func foldedName(_ index: Int) -> String {
        let token = tokens[index]
        return token.kind == .quotedIdentifier ? token.value : token.value.lowercased()
    }

    /// The index just after the group opened by the `(` at `index`, or `count` when it never closes.
    func after(group index: Int) -> Int {
        min(closing[index], tokens.count - 1) + 1
    }

    /// The non-empty statements, as index ranges between `;` tokens.
    func statements() -> [Range<Int>] {
        var result: [Range<Int>] = []
        var start = 0
        for (index, token) in tokens.enumerated() where token.kind == .semicolon {
            if index > start { result.append(start..<index) }
            start = index + 1
        }
        if tokens.count > start { result.append(start..<tokens.count) }
        return result
    }

    /// The dotted name (one to three parts) starting at `index`, or nil when there is none or it runs on into a placeholder or another dot.
    func qualifiedName(at index: Int, end: Int, reserved: Set<String> = SQLKeywords.reserved) -> [Int]? {
        guard index < end, isName(index, reserved: reserved) else { return nil }
        var parts = [index]
        var k = index
        while k + 2 < end, isPunctuation(k + 1, "."), isName(k + 2, reserved: []) {
            k += 2
            parts.append(k)
        }
        guard parts.count <= 3, !isPunctuation(k + 1, ".") else { return nil }
        if k + 1 < tokens.count, tokens[k + 1].kind == .parameter, tokens[k + 1].offset == tokens[k].end {
            return nil
        }
        if index > 0, tokens[index - 1].kind == .parameter, tokens[index - 1].end == tokens[index].offset {
            return nil
        }
        return parts
    }

    /// The table reference made of the name parts at `parts`.
    func tableReference(parts: [Int]) -> SQLTableReference {
        let first = tokens[parts[0]]
        let last = tokens[parts[parts.count - 1]]
        return SQLTableReference(
            schema: parts.count >= 2 ? tokens[parts[parts.count - 2]].value : nil,
            name: last.value,
            isQuoted: last.kind == .quotedIdentifier,
            offset: first.offset,
            length: last.end - first.offset
        )
    }
}

/// Keyword sets shared by the analyses (all uppercase).
enum SQLKeywords {
    /// Words that may start a read-only statement.
    static let queryStarts: Set<String> = ["SELECT", "WITH", "VALUES", "TABLE", "SHOW", "EXPLAIN", "DESCRIBE", "DESC"]

    /// Words that start a query inside parentheses (a subquery or derived table).
    static let subqueryStarts: Set<String> = ["SELECT", "WITH", "VALUES", "TABLE"]

    /// Words that make a statement write or lock something wherever they appear.
    static let writes: Set<String> = [
        "INSERT", "UPDATE", "DELETE", "MERGE", "UPSERT", "REPLACE", "CREATE", "DROP", "ALTER", "TRUNCATE",
        "GRANT", "REVOKE", "COPY", "CALL", "DO", "LOCK", "VACUUM", "ANALYZE", "ANALYSE", "REINDEX", "CLUSTER",
        "SET", "RESET", "INTO",
    ]

    /// Words that end a FROM list.
    static let fromListEnd: Set<String> = [
        "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "FETCH", "UNION", "INTERSECT", "EXCEPT", "MINUS",
        "WINDOW", "QUALIFY", "FOR", "RETURNING", "INTO", "SELECT", "FROM", "WITH", "VALUES", "SET", "CONNECT",
        "START", "LOCK",
    ]

    /// Words that may follow the table (and alias) of a single-table SELECT.
    static let singleTableTail: Set<String> = [
        "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "FETCH", "WINDOW", "QUALIFY", "FOR", "LOCK",
    ]

    /// Set operators, which combine queries.
    static let setOperators: Set<String> = ["UNION", "INTERSECT", "EXCEPT", "MINUS"]

    /// MySQL modifiers that may follow SELECT before the select list.
    static let selectModifiers: Set<String> = [
        "ALL", "DISTINCT", "DISTINCTROW", "HIGH_PRIORITY", "STRAIGHT_JOIN", "SQL_SMALL_RESULT", "SQL_BIG_RESULT",
        "SQL_BUFFER_RESULT", "SQL_NO_CACHE", "SQL_CACHE", "SQL_CALC_FOUND_ROWS",
    ]

    /// Words that are never a table, column or alias name when unquoted.
    static let reserved: Set<String> = fromListEnd.union(setOperators).union(selectModifiers).union([
        "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "OUTER", "CROSS", "NATURAL", "ON", "USING", "AS", "LATERAL",
        "ONLY", "AND", "OR", "NOT", "IN", "IS", "LIKE", "BETWEEN", "CASE", "WHEN", "THEN", "ELSE", "END",
        "TABLE", "BY", "ASC", "DESC", "NULL", "TRUE", "FALSE", "UNKNOWN", "DEFAULT", "EXISTS", "ANY", "SOME",
        "ARRAY", "INTERVAL", "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "CURRENT_USER", "CURRENT_ROLE",
        "CURRENT_SCHEMA", "CURRENT_CATALOG", "SESSION_USER", "SYSTEM_USER", "USER", "LOCALTIME", "LOCALTIMESTAMP",
        "USE", "FORCE", "IGNORE", "TABLESAMPLE", "PARTITION",
    ])

    /// Returns `text` with ASCII letters uppercased and everything else unchanged (SQL keywords are ASCII).
    static func uppercased(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= 0x61 && $0 <= 0x7A }) else { return text }
        return String(decoding: text.utf8.map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }, as: UTF8.self)
    }
}
