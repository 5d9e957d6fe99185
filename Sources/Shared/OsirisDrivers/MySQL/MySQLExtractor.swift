import OsirisCore
import OsirisData

/// `mysql.extractor`: runs `query`, or reads `table` (with `schema`, `columns`, `where`, `limit`,
/// `offset`), from MariaDB or MySQL inside a read-only transaction in UTC, streaming the rows
/// (`mysql_use_result`, so memory stays flat whatever the size) in batches of 65,536 rows.
///
/// `batch_size`, `pool_size`, `pool_recycle` and `echo` are accepted for compatibility and change
/// nothing: batches are the runner's size, a step uses one connection, and drivers do not log.
/// On cancellation a second connection sends `KILL QUERY` for the step's connection.
struct MySQLExtractor: Extractor {
    static let batchSize = 65_536

    func extract(_ context: StepContext, output: any BatchSink) throws(StepError) {
        guard let resolved = context.connection else {
            throw StepError(.configuration, "step '\(context.step.id)' needs a mysql connection")
        }
        let sql = try Self.query(context)
        let connection = try MySQLConnection(resolved, masker: context.masker)
        try connection.execute("SET SESSION TRANSACTION READ ONLY")
        try connection.execute("SET time_zone = '+00:00'")
        try connection.execute("START TRANSACTION READ ONLY")
        let threadID = connection.threadID
        let masker = context.masker
        let key = context.cancellation.onCancel { Self.kill(threadID, on: resolved, masker: masker) }
        defer { context.cancellation.remove(key) }
        try context.cancellation.check()
        try Self.read(sql, on: connection, context: context, output: output) {
            Self.kill(threadID, on: resolved, masker: masker)
        }
        try connection.execute("COMMIT")
    }

    /// Runs the query and streams its result; the result is freed when this returns, before the
    /// connection is used again. `kill` stops the server's query.
    private static func read(
        _ sql: String, on connection: MySQLConnection, context: StepContext, output: any BatchSink, kill: () -> Void
    ) throws(StepError) {
        let result: MySQLResult
        do {
            result = try connection.stream(sql)
        } catch {
            try context.cancellation.check()
            throw error
        }
        do {
            try stream(result, context: context, output: output)
        } catch {
            // Freeing an unfinished streamed result reads every remaining row: stop the server first
            // (the cancellation handler already did when the run was interrupted).
            if !result.finished && !context.cancellation.isCancelled { kill() }
            try context.cancellation.check()
            throw error
        }
    }

    /// Reads every row of `result` into batches and sends them.
    static func stream(_ result: MySQLResult, context: StepContext, output: any BatchSink) throws(StepError) {
        let schema = MySQLTypes.schema(result.fields)
        try output.start(schema: schema)
        var builder = BatchBuilder(schema: schema, capacity: batchSize)
        var bytes = 0
        func emit() throws(StepError) {
            let batch = builder.finish()
            context.progress.read(rows: batch.count, bytes: bytes)
            bytes = 0
            try context.cancellation.check()
            try output.send(batch)
        }
        while let row = try result.next() {
            bytes += MySQLTypes.appendRow(row.values, lengths: row.lengths, to: &builder)
            if builder.count == batchSize { try emit() }
        }
        if builder.count > 0 { try emit() }
    }

    /// Stops the query running on connection `threadID` from a second connection; failures are
    /// ignored (the query may have ended already).
    static func kill(_ threadID: UInt, on connection: ResolvedConnection, masker: SecretMasker) {
        guard let killer = try? MySQLConnection(connection, masker: masker) else { return }
        try? killer.execute("KILL QUERY \(threadID)")
    }

    /// The SQL to run: `query` as given, or a SELECT built from `table` and its options.
    static func query(_ context: StepContext) throws(StepError) -> String {
        if let query = context.config("query")?.stringValue { return query }
        let table = try context.requiredString("table")
        let columns = context.config("columns")?.arrayValue?.compactMap(\.stringValue) ?? []
        var sql = "SELECT " + (columns.isEmpty ? "*" : columns.map(quote).joined(separator: ", "))
        var parts = table.split(separator: ".").map(String.init)
        if parts.count == 1, let schema = context.config("schema")?.stringValue ?? context.connection?.fields["schema"]?.stringValue {
            parts.insert(schema, at: 0)
        }
        sql += " FROM " + parts.map(quote).joined(separator: ".")
        if let condition = context.config("where")?.stringValue { sql += " WHERE " + condition }
        let offset = context.config("offset")?.intValue ?? 0
        if let limit = context.config("limit")?.intValue {
            sql += " LIMIT \(limit)"
            if offset > 0 { sql += " OFFSET \(offset)" }
        } else if offset > 0 {
            sql += " LIMIT 18446744073709551615 OFFSET \(offset)"
        }
        return sql
    }

    /// An identifier in backquotes, inner backquotes doubled.
    static func quote(_ name: String) -> String { "`" + name.replacingAll("`", with: "``") + "`" }
}
