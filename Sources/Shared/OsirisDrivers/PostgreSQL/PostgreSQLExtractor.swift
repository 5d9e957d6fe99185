import OsirisCore
import OsirisData

/// `postgres.extractor` and `supabase.extractor`: runs `query`, or reads `table` (with `columns`,
/// `where`, `limit`, `schema`; Supabase's `select`, `order`, `offset` too), inside a READ ONLY
/// REPEATABLE READ transaction. The result's column types are learned first by preparing the query,
/// the schema declared from them (`PostgreSQLTypes`), then the rows streamed with
/// `COPY (query) TO STDOUT` in batches of 65,536, so memory stays flat whatever the table size.
struct PostgreSQLExtractor: Extractor {
    static let batchSize = 65_536

    func extract(_ context: StepContext, output: any BatchSink) throws(StepError) {
        let query = try Self.query(context)
        try PostgreSQLConnection.inTransaction(context, begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection throws(StepError) in
            try Self.stream(query, on: connection, context: context, output: output) { rows, bytes in
                context.progress.read(rows: rows, bytes: bytes)
            }
            try connection.execute("COMMIT")
        }
    }

    /// Streams the result of `query` on `connection` (inside the caller's transaction) into
    /// `output`: the schema learned by preparing the query, then the rows of `COPY (query) TO STDOUT`
    /// parsed into batches of `batchSize`; `sent` hears each batch's rows and COPY bytes.
    static func stream(
        _ query: String, on connection: PostgreSQLConnection, context: StepContext, output: any BatchSink,
        sent: (_ rows: Int, _ bytes: Int) -> Void
    ) throws(StepError) {
        let schema = PostgreSQLTypes.schema(try connection.describe(query))
        try output.start(schema: schema)
        var batcher = CopyBatcher(parser: PostgreSQLCopyParser(kinds: PostgreSQLTypes.kinds(schema)),
                                  builder: BatchBuilder(schema: schema, capacity: batchSize))
        try connection.copyOut(query) { row throws(StepError) in
            try batcher.parser.appendRow(row, to: &batcher.builder)
            batcher.bytes += row.count
            if batcher.builder.count == batchSize { try batcher.emit(context: context, output: output, sent: sent) }
        }
        if batcher.builder.count > 0 { try batcher.emit(context: context, output: output, sent: sent) }
    }

    /// The rows of a COPY on their way into batches.
    private struct CopyBatcher {
        var parser: PostgreSQLCopyParser
        var builder: BatchBuilder
        var bytes = 0

        init(parser: PostgreSQLCopyParser, builder: BatchBuilder) {
            self.parser = parser
            self.builder = builder
        }

        /// Sends the rows collected so far as one batch.
        mutating func emit(context: StepContext, output: any BatchSink, sent: (Int, Int) -> Void) throws(StepError) {
            let batch = builder.finish()
            sent(batch.count, bytes)
            bytes = 0
            try context.cancellation.check()
            try output.send(batch)
        }
    }

    /// The SQL to run: `query` as given (without a final semicolon), or a SELECT built from `table`
    /// and the options of the component.
    static func query(_ context: StepContext) throws(StepError) -> String {
        if let query = context.config("query")?.stringValue {
            var text = Substring(query)
            while let last = text.last, last == ";" || last.isWhitespace { text = text.dropLast() }
            return String(text)
        }
        let table = try context.requiredString("table")
        var columns = context.config("columns")?.arrayValue?.compactMap(\.stringValue).map(PostgreSQLConnection.quote) ?? []
        if columns.isEmpty, let select = context.config("select")?.stringValue, select.trimmingWhitespace != "*" {
            columns = select.split(separator: ",").map { PostgreSQLConnection.quote(String($0).trimmingWhitespace) }
        }
        var name = table.split(separator: ".").map { PostgreSQLConnection.quote(String($0)) }.joined(separator: ".")
        if !table.contains("."), let schema = context.config("schema")?.stringValue {
            name = PostgreSQLConnection.quote(schema) + "." + name
        }
        var sql = "SELECT " + (columns.isEmpty ? "*" : columns.joined(separator: ", ")) + " FROM " + name
        var conditions = context.config("where")?.stringValue.map { ["(" + $0 + ")"] } ?? []
        if case .object(let filters)? = context.config("filter") {
            for (column, value) in filters.sorted(by: { $0.key < $1.key }) {
                conditions.append(try filterCondition(column: column, value, step: context.step.id))
            }
        }
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        if let order = context.config("order")?.stringValue {
            let terms = order.split(separator: ",").map { term -> String in
                let parts = term.split(separator: ".")
                let direction = parts.count > 1 && parts.last!.lowercased() == "desc" ? " DESC" : ""
                let column = parts.count > 1 && ["asc", "desc"].contains(parts.last!.lowercased())
                    ? parts.dropLast().joined(separator: ".") : String(term)
                return PostgreSQLConnection.quote(column.trimmingWhitespace) + direction
            }
            sql += " ORDER BY " + terms.joined(separator: ", ")
        }
        if let limit = context.config("limit")?.intValue { sql += " LIMIT \(limit)" }
        if let offset = context.config("offset")?.intValue, offset > 0 { sql += " OFFSET \(offset)" }
        return sql
    }

    /// One Supabase (PostgREST) filter as SQL: `eq.completed`, `neq.`, `gt.`, `gte.`, `lt.`, `lte.`,
    /// `like.`, `ilike.`, `is.null` / `is.true` / `is.false`, `in.(a,b)`; values become literals.
    static func filterCondition(column: String, _ value: JSONValue, step: String) throws(StepError) -> String {
        let name = PostgreSQLConnection.quote(column)
        guard let text = value.stringValue, let dot = text.firstIndex(of: ".") else {
            throw StepError(.configuration, "step '\(step)': filter '\(column)' must be 'operator.value', such as 'eq.completed'")
        }
        let operand = String(text[text.index(after: dot)...])
        let operators = ["eq": "=", "neq": "<>", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "like": "LIKE", "ilike": "ILIKE"]
        switch String(text[..<dot]) {
        case "is" where ["null", "true", "false"].contains(operand.lowercased()):
            return "\(name) IS \(operand.uppercased())"
        case "in" where operand.hasPrefix("(") && operand.hasSuffix(")"):
            let items = operand.dropFirst().dropLast().split(separator: ",").map { PostgreSQLConnection.literal(String($0)) }
            return "\(name) IN (\(items.joined(separator: ", ")))"
        case let op:
            guard let sqlOperator = operators[op] else {
                throw StepError(.configuration, "step '\(step)': filter '\(column)' has an unknown operator '\(op)'")
            }
            return "\(name) \(sqlOperator) \(PostgreSQLConnection.literal(operand))"
        }
    }
}

extension String {
    /// The text without leading and trailing whitespace.
    fileprivate var trimmingWhitespace: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
