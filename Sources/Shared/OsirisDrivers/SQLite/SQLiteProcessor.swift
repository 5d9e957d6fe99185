import CSQLite3
#if canImport(Glibc)
import Glibc
#endif
import OsirisCore
import OsirisData
import Synchronization

/// `sqlite.processor`: loads each input into an embedded SQLite database as `df_<id>` (every
/// character outside `[A-Za-z0-9_]` turned into `_`), also visible as the quoted step id and, for a
/// single input, as `input_df`; runs `query` and streams the result out. A single input the query
/// reads once streams through a virtual table; other inputs are loaded into tables that live in a
/// small page cache and a temporary file beyond it (see `settings`).
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
        try database.execute(Self.settings(memoryBudget: context.memoryBudget))
        var schemas: [Schema] = []
        let streamed = inputs.count == 1 ? try stream(inputs[0], query: query, into: database, context: context) : nil
        // A split GROUP BY's second half (see `GroupSplitter`) is stopped if this connection fails.
        defer { streamed?.secondHalf?.stop() }
        if let streamed {
            // The one input streams through a virtual table as the query reads it.
            schemas.append(streamed.schema)
        } else {
            for input in inputs {
                schemas.append(try load(input, into: database, context: context, single: inputs.count == 1))
            }
        }
        let statement: SQLiteStatement
        do {
            statement = try database.prepare(query)
        } catch {
            throw StepError(error.code, "query of step '\(context.step.id)' fails: \(error.message)")
        }
        if let streamed, let plain = PlainSelect.prepare(
            query, original: statement, table: streamed, tableName: Self.tableName(for: inputs[0].stepID), database: database) {
            try SQLiteTypes.stream(
                plain.statement, hasRow: try plain.start(), batchSize: SQLiteExtractor.batchSize, context: context, output: output,
                plain: plain
            ) { _, _ in }
            return
        }
        try SQLiteTypes.stream(
            statement, hasRow: try statement.step(), batchSize: SQLiteExtractor.batchSize, context: context, output: output,
            typed: SQLiteResultTypes.decimalFields(of: query, inputs: schemas),
            then: { () throws(StepError) in try streamed?.secondHalf?.finish() }
        ) { _, _ in }
    }

    /// What the processor chose for the queries run while it is bound, for tests that must tell the
    /// plans apart although their results are the same: `SQLiteProcessor.$observed.withValue(...)`.
    @TaskLocal static var observed: Choices?

    /// The counts `observed` collects.
    final class Choices: Sendable {
        /// GROUP BYs split in two halves (`GroupSplitter`).
        let splits = Atomic<Int>(0)
        /// Queries run as plain selects (`PlainSelect`).
        let plainSelects = Atomic<Int>(0)

        init() {}
    }

    /// The page cache of the processor's database, in KiB. SQLite's sorter sorts runs of about the
    /// cache's size in memory, then merges them from a temporary file: a large cache makes one huge
    /// run whose merge sort chases pointers through all of it (the 256 MiB cache this replaces made
    /// a 5M-row GROUP BY take 10.7 s and 226 MiB). 1000 KiB is SQLite's smallest run (250 pages of
    /// 4096 bytes), which fits a core's 1 MiB level-2 cache; 2 MiB took a little more CPU time and
    /// memory. Loaded inputs past the cache live in the temporary file, which the kernel keeps in
    /// its page cache. bench/RESULTS.md has the measurements.
    static let cacheKiB = 1000

    /// Auxiliary threads of the sorter: two per core, at most 8 (Debian's SQLite allows 8). When
    /// every auxiliary thread is busy, SQLite sorts the next run on the thread that reads the input,
    /// which then stops reading: with one auxiliary thread on two cores, 39 % of that thread's time
    /// in a 1M-row GROUP BY went to sorting; with four, 17 %.
    static let sorterThreads = min(max(2 * Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 2), 8)

    /// The settings of the processor's database: no journal or syncing (it is private and thrown
    /// away), the cache and sorter threads above, temporary files on disk (SQLite's sorter uses
    /// threads only then), and the step's memory budget as SQLite's soft heap limit, past which its
    /// page cache recycles pages and the sorter writes its runs out early.
    static func settings(memoryBudget: Int) -> String {
        sqlite3_soft_heap_limit64(Int64(memoryBudget))
        return """
            PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA locking_mode = EXCLUSIVE;
            PRAGMA temp_store = FILE; PRAGMA cache_size = -\(cacheKiB); PRAGMA threads = \(sorterThreads);
            """
    }

    /// The table name of an input: `df_` and the step id with every character outside
    /// `[A-Za-z0-9_]` turned into `_`.
    static func tableName(for stepID: String) -> String {
        "df_" + String(stepID.unicodeScalars.map { scalar in
            let isWord = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9") || scalar == "_"
            return isWord ? Character(scalar) : "_"
        })
    }

    /// Exposes a single input as a streaming virtual table when the query reads it exactly once, and
    /// returns the table; nil when it cannot, and the input must be loaded.
    private func stream(
        _ input: any BatchSource, query: String, into database: SQLiteDatabase, context: StepContext
    ) throws(StepError) -> SQLiteStreamTable? {
        let stepID = input.stepID
        guard SQLiteStreamTable.canStream(query, names: [Self.tableName(for: stepID), stepID, "input_df"]) else { return nil }
        let streamed = SQLiteStreamTable(
            source: input, schema: try input.schema(), cancellation: context.cancellation, progress: context.progress,
            temporaryDirectory: context.temporaryDirectory, groupingLimit: SQLiteStreamTable.groupingLimit(memoryBudget: context.memoryBudget))
        try Self.expose(streamed, stepID: stepID, on: database)
        // A second half only pays with a second core to run it on.
        if sysconf(Int32(_SC_NPROCESSORS_ONLN)) > 1, GroupSplitter.canSplit(query) {
            let memoryBudget = context.memoryBudget
            streamed.splitter = GroupSplitter(query: query, minimumRows: GroupSplitter.defaultMinimumRows) { table throws(StepError) in
                let second = try SQLiteDatabase(path: "", create: true)
                try second.execute(Self.settings(memoryBudget: memoryBudget))
                try Self.expose(table, stepID: stepID, on: second)
                return second
            }
        }
        return streamed
    }

    /// Registers `table` on `database` under the input's names: `df_<id>`, the step id and `input_df`.
    static func expose(_ table: SQLiteStreamTable, stepID: String, on database: SQLiteDatabase) throws(StepError) {
        let name = tableName(for: stepID)
        try SQLiteStreamTable.register(on: database, tables: [table])
        try database.execute("CREATE VIRTUAL TABLE temp.\(SQLiteDatabase.quote(name)) USING osiris_input(0)")
        if stepID != name {
            try database.execute("CREATE TEMP VIEW \(SQLiteDatabase.quote(stepID)) AS SELECT * FROM temp.\(SQLiteDatabase.quote(name))")
        }
        try database.execute("CREATE TEMP VIEW input_df AS SELECT * FROM temp.\(SQLiteDatabase.quote(name))")
    }

    /// Loads an input into a table and returns its schema.
    private func load(_ input: any BatchSource, into database: SQLiteDatabase, context: StepContext, single: Bool) throws(StepError) -> Schema {
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
        return schema
    }
}
