/// Why SQL is not a single read-only statement (OML306).
package enum SQLReadOnlyProblem: Sendable, Equatable {
    /// The text holds no statement at all, only white space, comments and semicolons.
    case empty
    /// A second non-empty statement starts at `secondOffset` (Unicode scalars).
    case multipleStatements(secondOffset: Int)
    /// The first word (uppercased, or the raw token when it is not a word) is not a query keyword.
    case notAQuery(keyword: String, offset: Int)
    /// A writing or locking keyword (uppercased; `FOR UPDATE` and the like as one phrase) appears in the statement.
    case writes(keyword: String, offset: Int)
    /// A string, quoted identifier, comment or placeholder starting at `offset` is never closed.
    case unterminated(offset: Int)
}

/// A table that a statement reads, as written in its FROM or JOIN clause.
package struct SQLTableReference: Sendable, Equatable {
    /// The schema qualifier (the middle part of `catalog.schema.table`), or nil when unqualified.
    package let schema: String?
    /// The table name, unquoted.
    package let name: String
    /// Whether the table name was written as a quoted identifier (so its case is significant).
    package let isQuoted: Bool
    /// The offset of the first name part, in Unicode scalars.
    package let offset: Int
    /// The length from the first to the end of the last name part, in Unicode scalars.
    package let length: Int

    /// Creates a table reference from its parts.
    package init(schema: String?, name: String, isQuoted: Bool, offset: Int, length: Int) {
        self.schema = schema
        self.name = name
        self.isQuoted = isQuoted
        self.offset = offset
        self.length = length
    }
}

/// A plain column named in a select list.
package struct SQLColumnReference: Sendable, Equatable {
    /// The column name, unquoted.
    package let name: String
    /// Whether the column name was written as a quoted identifier (so its case is significant).
    package let isQuoted: Bool
    /// The offset of the column name token (not its qualifier), in Unicode scalars.
    package let offset: Int
    /// The length of the column name token, in Unicode scalars.
    package let length: Int

    /// Creates a column reference from its parts.
    package init(name: String, isQuoted: Bool, offset: Int, length: Int) {
        self.name = name
        self.isQuoted = isQuoted
        self.offset = offset
        self.length = length
    }
}

/// A `SELECT` from exactly one table, with the plain columns of its select list.
package struct SQLSingleTableSelect: Sendable, Equatable {
    /// The one table read.
    package let table: SQLTableReference
    /// The plain column items of the select list, in order (`*`, expressions and literals are left out).
    package let columns: [SQLColumnReference]

    /// Creates a single-table select from its parts.
    package init(table: SQLTableReference, columns: [SQLColumnReference]) {
        self.table = table
        self.columns = columns
    }
}

/// Static analyses of SQL text used by the linter; none of them executes or fully parses SQL.
package enum SQLAnalysis {
    /// Returns nil when the SQL is a single read-only statement (a trailing `;` and trailing comments are fine), otherwise the first problem found.
    package static func readOnlyProblem(_ sql: String) -> SQLReadOnlyProblem? {
        let stream = SQLTokenStream(sql)
        let tokens = stream.tokens
        let statements = stream.statements()
        guard let first = statements.first else { return .empty }

        var k = first.lowerBound
        while k < first.upperBound - 1, stream.isPunctuation(k, "(") { k += 1 }
        let head = tokens[k]
        if head.kind == .unterminated { return .unterminated(offset: head.offset) }
        guard head.kind == .word, SQLKeywords.queryStarts.contains(stream.keywords[k]) else {
            return .notAQuery(keyword: head.kind == .word ? stream.keywords[k] : head.text, offset: head.offset)
        }
        if let problem = writeProblem(stream, in: first) { return problem }
        if statements.count > 1 {
            let second = tokens[statements[1].lowerBound]
            if second.kind == .unterminated { return .unterminated(offset: second.offset) }
            return .multipleStatements(secondOffset: second.offset)
        }
        if let last = tokens.last, last.kind == .unterminated { return .unterminated(offset: last.offset) }
        return nil
    }

    /// The first writing or locking keyword in the statement `range`, skipping words that are clearly names or function calls.
    private static func writeProblem(_ stream: SQLTokenStream, in range: Range<Int>) -> SQLReadOnlyProblem? {
        let tokens = stream.tokens
        for k in range where tokens[k].kind == .word {
            let word = stream.keywords[k]
            if word == "FOR" {
                let phrases: [[String]] = [["UPDATE"], ["SHARE"], ["NO", "KEY", "UPDATE"], ["KEY", "SHARE"]]
                for phrase in phrases where phrase.indices.allSatisfy({ k + 1 + $0 < range.upperBound && stream.keyword(k + 1 + $0) == phrase[$0] }) {
                    return .writes(keyword: (["FOR"] + phrase).joined(separator: " "), offset: tokens[k].offset)
                }
                continue
            }
            guard SQLKeywords.writes.contains(word) else { continue }
            let previous = k > range.lowerBound ? k - 1 : -1
            if stream.isPunctuation(previous, ".") || ["AS", "SHOW"].contains(stream.keyword(previous)) { continue }
            if word == "SET", ["CHARACTER", "CHARSET"].contains(stream.keyword(previous)) { continue }
            guard k + 1 < range.upperBound else { continue }
            if [".", "(", ",", ")"].contains(where: { stream.isPunctuation(k + 1, $0) }) { continue }
            if word != "DELETE", stream.keyword(k + 1) == "FROM" { continue }
            return .writes(keyword: word, offset: tokens[k].offset)
        }
        return nil
    }
}
