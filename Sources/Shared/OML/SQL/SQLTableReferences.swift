/// The table-reference analysis, which lets the linter check a query's tables against a snapshot (OML400).
extension SQLAnalysis {
    /// Returns the tables the SQL reads (after FROM, any JOIN, and in comma-separated FROM lists, subqueries included), in source order, without CTE names, derived tables or table functions.
    package static func tableReferences(_ sql: String) -> [SQLTableReference] {
        let stream = SQLTokenStream(sql)
        var scan = TableScan(stream: stream, cteNames: cteNames(stream))
        scan.run()
        return scan.found.sorted { $0.index < $1.index }.map(\.reference)
    }

    /// The folded names of every common table expression defined anywhere in the text.
    private static func cteNames(_ stream: SQLTokenStream) -> Set<String> {
        var names: Set<String> = []
        for k in 0..<stream.count where stream.keywords[k] == "WITH" {
            var j = k + 1
            if stream.keyword(j) == "RECURSIVE" { j += 1 }
            while stream.isName(j) {
                let name = j
                j += 1
                if stream.isPunctuation(j, "(") { j = stream.after(group: j) }
                guard stream.keyword(j) == "AS" else { break }
                j += 1
                if stream.keyword(j) == "NOT" { j += 1 }
                if stream.keyword(j) == "MATERIALIZED" { j += 1 }
                guard stream.isPunctuation(j, "(") else { break }
                names.insert(stream.foldedName(name))
                j = stream.after(group: j)
                guard stream.isPunctuation(j, ",") else { break }
                j += 1
            }
        }
        return names
    }
}

/// One linear pass over the tokens that records every table read.
private struct TableScan {
    /// The tokens scanned.
    let stream: SQLTokenStream
    /// Folded CTE names, which unqualified references to are not tables.
    let cteNames: Set<String>
    /// The tables found, with the index of their first name token.
    var found: [(index: Int, reference: SQLTableReference)] = []
    /// The indices of the first name tokens recorded so far, so that no table is recorded twice.
    var seen: Set<Int> = []

    /// Walks all tokens, tracking whether each parenthesised group holds a query, and handles FROM and JOIN.
    mutating func run() {
        var groupIsQuery: [Bool] = []
        for k in 0..<stream.count {
            let token = stream.tokens[k]
            if token.kind == .punctuation {
                if token.text == "(" {
                    groupIsQuery.append(stream.isPunctuation(k + 1, "(") || SQLKeywords.subqueryStarts.contains(stream.keyword(k + 1)))
                } else if token.text == ")" {
                    _ = groupIsQuery.popLast()
                }
                continue
            }
            switch stream.keywords[k] {
            case "FROM":
                if groupIsQuery.last ?? true, stream.keyword(k - 1) != "DISTINCT" { walkFromList(k + 1) }
            case "JOIN":
                item(at: k + 1)
            case "STRAIGHT_JOIN":
                let previous = stream.keyword(k - 1)
                if previous != "SELECT", !SQLKeywords.selectModifiers.contains(previous) { item(at: k + 1) }
            default:
                break
            }
        }
    }

    /// Records the first item of a FROM list starting at `start` and every item after a comma at the same level.
    mutating func walkFromList(_ start: Int) {
        item(at: start)
        var k = start
        while k < stream.count {
            let token = stream.tokens[k]
            if token.kind == .semicolon || stream.isPunctuation(k, ")") { return }
            if stream.isPunctuation(k, "(") {
                k = stream.after(group: k)
                continue
            }
            if SQLKeywords.fromListEnd.contains(stream.keywords[k]) { return }
            if stream.isPunctuation(k, ",") { item(at: k + 1) }
            k += 1
        }
    }

    /// Records the table named at `start`, looking through LATERAL, ONLY and the parentheses of a nested join, and skipping derived tables and table functions.
    mutating func item(at start: Int) {
        var k = start
        while k < stream.count, stream.isPunctuation(k, "(") || ["LATERAL", "ONLY"].contains(stream.keywords[k]) {
            k += 1
        }
        guard let parts = stream.qualifiedName(at: k, end: stream.count) else { return }
        let last = parts[parts.count - 1]
        if stream.isPunctuation(last + 1, "(") { return }
        if parts.count == 1, !cteNames.isEmpty, cteNames.contains(stream.foldedName(last)) { return }
        guard seen.insert(parts[0]).inserted else { return }
        found.append((parts[0], stream.tableReference(parts: parts)))
    }
}
