import CSQLite3
import OsirisCore
import OsirisData

/// `sqlite.processor`: loads each input into an embedded SQLite database as `df_<id>` (every
/// character outside `[A-Za-z0-9_]` turned into `_`), also visible as the quoted step id and, for a
/// single input, as `input_df`; runs `query` and streams the result out. The database lives in
/// memory until the memory budget is reached, then SQLite spills it to a temporary file.
struct SQLiteProcessor: Processor {
    func process(_ context: StepContext, inputs: [any BatchSource], output: any BatchSink) throws(StepError) {
        let query = try context.requiredString("query")
        var tables: [String: String] = [:]
        for input in inputs {
            let table = Self.tableName(for: input.stepID)
            if let other = tables[table] {
                throw StepError(.configuration, """
                    inputs '\(other)' and '\(input.stepID)' of step '\(context.step.id)' would both be table \(table); \
                    rename one of the steps
                    """)
            }
            tables[table] = input.stepID
        }
        let database = try SQLiteDatabase(path: "", create: true)
        let key = context.cancellation.onCancel { database.interrupt() }
        defer { context.cancellation.remove(key) }
        let cacheKiB = max(context.memoryBudget / 1024, 2048)
        try database.execute("""
            PRAGMA page_size = 65536; PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE;
            PRAGMA temp_store = FILE; PRAGMA cache_size = -\(cacheKiB);
            """)
        if inputs.count == 1, try stream(inputs[0], query: query, into: database, context: context) {
            // The one input streams through a virtual table as the query reads it.
        } else {
            for input in inputs {
                try load(input, into: database, context: context, single: inputs.count == 1)
            }
        }
        let statement: SQLiteStatement
        do {
            statement = try database.prepare(query)
        } catch {
            throw StepError(error.code, "query of step '\(context.step.id)' fails: \(error.message)")
        }
        try SQLiteTypes.stream(
            statement, hasRow: try statement.step(), batchSize: SQLiteExtractor.batchSize, context: context, output: output
        ) { _, _ in }
    }

    /// The table name of an input: `df_` and the step id with every character outside
    /// `[A-Za-z0-9_]` turned into `_`.
    static func tableName(for stepID: String) -> String {
        "df_" + String(stepID.unicodeScalars.map { scalar in
            let isWord = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9") || scalar == "_"
            return isWord ? Character(scalar) : "_"
        })
    }

    /// Exposes a single input as a streaming virtual table when the query reads it exactly once;
    /// false when it cannot, and the input must be loaded.
    private func stream(_ input: any BatchSource, query: String, into database: SQLiteDatabase, context: StepContext) throws(StepError) -> Bool {
        let table = Self.tableName(for: input.stepID)
        guard SQLiteStreamTable.canStream(query, names: [table, input.stepID, "input_df"]) else { return false }
        let schema = try input.schema()
        let streamed = SQLiteStreamTable(source: input, schema: schema, cancellation: context.cancellation, progress: context.progress)
        try SQLiteStreamTable.register(on: database, tables: [streamed])
        try database.execute("CREATE VIRTUAL TABLE temp.\(SQLiteDatabase.quote(table)) USING osiris_input(0)")
        if input.stepID != table {
            try database.execute("CREATE TEMP VIEW \(SQLiteDatabase.quote(input.stepID)) AS SELECT * FROM temp.\(SQLiteDatabase.quote(table))")
        }
        try database.execute("CREATE TEMP VIEW input_df AS SELECT * FROM temp.\(SQLiteDatabase.quote(table))")
        return true
    }

    private func load(_ input: any BatchSource, into database: SQLiteDatabase, context: StepContext, single: Bool) throws(StepError) {
        let schema = try input.schema()
        let table = Self.tableName(for: input.stepID)
        try database.execute("CREATE TABLE \(SQLiteDatabase.quote(table)) (\(SQLiteTypes.columnDefinitions(schema)))")
        if input.stepID != table {
            try database.execute("CREATE VIEW \(SQLiteDatabase.quote(input.stepID)) AS SELECT * FROM \(SQLiteDatabase.quote(table))")
        }
        if single { try database.execute("CREATE VIEW input_df AS SELECT * FROM \(SQLiteDatabase.quote(table))") }
        let insert = try database.prepare(SQLiteStatement.insertSQL(into: SQLiteDatabase.quote(table), columns: schema.fields.count))
        try database.execute("BEGIN")
        while let batch = try input.next() {
            try context.cancellation.check()
            try insert.insertRows(of: batch)
            context.progress.read(rows: batch.count, bytes: batch.dataByteCount)
        }
        try database.execute("COMMIT")
    }
}
