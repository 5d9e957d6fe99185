import CSQLite3
import OsirisCore
import OsirisData

/// `sqlite.extractor`: runs `query`, or reads `table` (with `columns`, `where`, `limit`), from a
/// SQLite database opened read-only, streaming the rows in batches.
struct SQLiteExtractor: Extractor {
    static let batchSize = 65_536

    func extract(_ context: StepContext, output: any BatchSink) throws(StepError) {
        let path = try SQLiteExtractor.databasePath(context)
        guard DirectoryWalker.exists(path) else {
            throw StepError(.run, "SQLite database '\(path)' does not exist")
        }
        let database = try SQLiteDatabase(path: path, readOnly: true)
        let key = context.cancellation.onCancel { database.interrupt() }
        defer { context.cancellation.remove(key) }
        let statement = try database.prepare(try SQLiteExtractor.query(context))
        try SQLiteTypes.stream(
            statement, hasRow: try statement.step(), batchSize: Self.batchSize, context: context, output: output
        ) { batch, bytes in
            context.progress.read(rows: batch.count, bytes: bytes)
        }
    }

    /// The database file: config `path`, else the connection's `path`.
    static func databasePath(_ context: StepContext) throws(StepError) -> String {
        if let path = context.config("path")?.stringValue { return path }
        if let path = context.connection?.fields["path"]?.stringValue { return path }
        throw StepError(.configuration, "step '\(context.step.id)' names no SQLite database: set 'path' or a connection with a 'path'")
    }

    /// The SQL to run: `query` as given, or a SELECT built from `table`, `columns`, `where`, `limit`.
    static func query(_ context: StepContext) throws(StepError) -> String {
        if let query = context.config("query")?.stringValue { return query }
        let table = try context.requiredString("table")
        let columns = context.config("columns")?.arrayValue?.compactMap(\.stringValue) ?? []
        var sql = "SELECT " + (columns.isEmpty ? "*" : columns.map(SQLiteDatabase.quote).joined(separator: ", "))
        sql += " FROM " + table.split(separator: ".").map { SQLiteDatabase.quote(String($0)) }.joined(separator: ".")
        if let condition = context.config("where")?.stringValue { sql += " WHERE " + condition }
        if let limit = context.config("limit")?.intValue { sql += " LIMIT \(limit)" }
        return sql
    }
}
