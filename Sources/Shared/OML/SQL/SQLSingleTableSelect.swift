/// The single-table select analysis, which lets the linter check a query's columns against a snapshot (OML401).
extension SQLAnalysis {
    /// Returns the table and plain select-list columns of `SELECT [DISTINCT] <list> FROM <one table> [alias] [WHERE ...]`, or nil for any other shape (joins, several tables, derived tables, set operations, WITH).
    package static func singleTableSelect(_ sql: String) -> SQLSingleTableSelect? {
        let stream = SQLTokenStream(sql)
        let statements = stream.statements()
        guard statements.count == 1, stream.tokens.last?.kind != .unterminated else { return nil }
        let end = statements[0].upperBound
        var k = statements[0].lowerBound
        guard stream.keywords[k] == "SELECT" else { return nil }
        k += 1
        while SQLKeywords.selectModifiers.contains(stream.keyword(k)) {
            k += 1
            if stream.keyword(k - 1) == "DISTINCT", stream.keyword(k) == "ON", stream.isPunctuation(k + 1, "(") {
                k = stream.after(group: k + 1)
            }
        }

        // The select list: items separated by commas at depth 0, up to FROM.
        var items: [Range<Int>] = []
        var itemStart = k
        var from: Int?
        while k < end {
            if stream.isPunctuation(k, "(") {
                k = stream.after(group: k)
                continue
            }
            if stream.isPunctuation(k, ")") { return nil }
            if stream.isPunctuation(k, ",") {
                items.append(itemStart..<k)
                itemStart = k + 1
            } else if stream.keywords[k] == "FROM" {
                items.append(itemStart..<k)
                from = k
                break
            } else if stream.keywords[k] == "INTO" || SQLKeywords.setOperators.contains(stream.keywords[k]) {
                return nil
            }
            k += 1
        }
        guard let from else { return nil }

        // The one table, an optional alias, then the end or a clause that adds no table.
        guard let parts = stream.qualifiedName(at: from + 1, end: end) else { return nil }
        k = parts[parts.count - 1] + 1
        if stream.isPunctuation(k, "(") { return nil }
        var alias: String?
        if stream.keyword(k) == "AS" {
            guard k + 1 < end, stream.isName(k + 1) else { return nil }
            alias = stream.foldedName(k + 1)
            k += 2
        } else if k < end, stream.isName(k) {
            alias = stream.foldedName(k)
            k += 1
        }
        if k < end, !SQLKeywords.singleTableTail.contains(stream.keywords[k]) { return nil }
        while k < end {
            if stream.isPunctuation(k, "(") {
                k = stream.after(group: k)
                continue
            }
            if stream.keywords[k] == "INTO" || SQLKeywords.setOperators.contains(stream.keywords[k]) { return nil }
            k += 1
        }

        let table = stream.tableReference(parts: parts)
        let qualifiers = Qualifiers(
            table: stream.foldedName(parts[parts.count - 1]),
            schema: parts.count >= 2 ? stream.foldedName(parts[parts.count - 2]) : nil,
            alias: alias
        )
        let columns = items.compactMap { plainColumn(stream, in: $0, qualifiers: qualifiers) }
        return SQLSingleTableSelect(table: table, columns: columns)
    }

    /// The folded names a column may be qualified with in a single-table select.
    private struct Qualifiers {
        /// The table name.
        let table: String
        /// The table's schema, when the FROM clause names one.
        let schema: String?
        /// The table's alias, when it has one.
        let alias: String?
    }

    /// The column of a select item that is a plain, possibly qualified column name with an optional alias, or nil for anything else.
    private static func plainColumn(_ stream: SQLTokenStream, in item: Range<Int>, qualifiers: Qualifiers) -> SQLColumnReference? {
        guard let parts = stream.qualifiedName(at: item.lowerBound, end: item.upperBound) else { return nil }
        let nameIndex = parts[parts.count - 1]
        var k = nameIndex + 1
        if stream.keyword(k) == "AS" {
            let aliasIndex = k + 1
            guard aliasIndex < item.upperBound,
                  stream.isName(aliasIndex) || stream.tokens[aliasIndex].kind == .string else { return nil }
            k += 2
        } else if k < item.upperBound, stream.isName(k) {
            k += 1
        }
        guard k == item.upperBound else { return nil }

        switch parts.count {
        case 1:
            break
        case 2:
            let qualifier = stream.foldedName(parts[0])
            guard qualifier == qualifiers.table || qualifier == qualifiers.alias else { return nil }
        default:
            guard let schema = qualifiers.schema, stream.foldedName(parts[0]) == schema,
                  stream.foldedName(parts[1]) == qualifiers.table else { return nil }
        }
        let token = stream.tokens[nameIndex]
        return SQLColumnReference(
            name: token.value,
            isQuoted: token.kind == .quotedIdentifier,
            offset: token.offset,
            length: token.length
        )
    }
}
