import CSQLite3
#if canImport(Glibc)
import Glibc
#endif
import OsirisCore
import OsirisData

/// `sqlite.writer`: loads its input into a staging table, then applies it to the target in one
/// transaction (append, replace, upsert or truncate), so a failure leaves the target as it was
/// (DESIGN.md §7.3). Creates the target from the input's schema when it does not exist. An append
/// inside a run inserts its commit marker into `osiris_commits` in the same transaction (`CommitMarker`).
struct SQLiteWriter: Writer {
    func write(_ context: StepContext, input: any BatchSource) throws(StepError) {
        let path = try SQLiteExtractor.databasePath(context)
        let table = try context.requiredString("table")
        let mode = try context.requiredString("write_mode")
        let createTable = context.config("create_table")?.boolValue == true
        let primaryKey = context.config("primary_key")?.arrayValue?.compactMap(\.stringValue) ?? []
        if mode == "upsert" && primaryKey.isEmpty {
            throw StepError(.configuration, "step '\(context.step.id)': upsert needs 'primary_key'")
        }
        let schema = try input.schema()
        if !DirectoryWalker.exists(FileSystem.directory(of: path)) {
            throw StepError(.run, "folder of SQLite database '\(path)' does not exist")
        }
        let existed = DirectoryWalker.exists(path)
        let database = try SQLiteDatabase(path: path, create: true)
        let key = context.cancellation.onCancel { database.interrupt() }
        defer { context.cancellation.remove(key) }
        do throws(StepError) {
            try load(schema: schema, input: input, into: database, table: table, mode: mode, createTable: createTable,
                     primaryKey: primaryKey, context: context)
        } catch {
            // A database this write created is removed again: a failed write leaves nothing behind.
            if !existed {
                database.close()
                unlink(path)
            }
            throw error
        }
    }

    private func load(
        schema: Schema, input: any BatchSource, into database: SQLiteDatabase, table: String, mode: String,
        createTable: Bool, primaryKey: [String], context: StepContext
    ) throws(StepError) {
        // Stage in the connection's temporary schema: it takes no lock on the target database.
        let staging = SQLiteDatabase.quote("osiris_staging_\(context.step.id)")
        let columns = schema.fields.map { SQLiteDatabase.quote($0.name) }
        let definitions = SQLiteTypes.columnDefinitions(schema)
        try database.execute("PRAGMA temp_store = FILE; CREATE TEMP TABLE \(staging) (\(definitions))")
        try database.execute("BEGIN")
        let insert = try database.prepare(SQLiteStatement.insertSQL(into: "temp.\(staging)", columns: columns.count))
        var rows = 0
        var bytes = 0
        do throws(StepError) {
            while let batch = try input.next() {
                try context.cancellation.check()
                try insert.insertRows(of: batch)
                rows += batch.count
                bytes += batch.dataByteCount
                context.progress.read(rows: batch.count, bytes: batch.dataByteCount)
            }
            try database.execute("COMMIT")
        } catch {
            try? database.execute("ROLLBACK")
            throw error
        }

        // Apply in one write transaction.
        let target = table.split(separator: ".").map { SQLiteDatabase.quote(String($0)) }.joined(separator: ".")
        let columnList = columns.joined(separator: ", ")
        do throws(StepError) {
            try database.execute("BEGIN IMMEDIATE")
            let exists = try tableExists(database, table)
            if !exists {
                guard createTable else {
                    throw StepError(.run, "table '\(table)' does not exist and create_table is false")
                }
            }
            if mode == "replace", exists {
                try database.execute("DROP TABLE \(target)")
            }
            if !exists || mode == "replace" {
                var create = "CREATE TABLE \(target) (\(definitions)"
                if !primaryKey.isEmpty { create += ", PRIMARY KEY (\(primaryKey.map(SQLiteDatabase.quote).joined(separator: ", ")))" }
                try database.execute(create + ")")
            }
            if mode == "truncate", exists { try database.execute("DELETE FROM \(target)") }
            var apply = "INSERT INTO \(target) (\(columnList)) SELECT \(columnList) FROM temp.\(staging) WHERE true"
            if mode == "upsert" {
                let keys = Set(primaryKey)
                let updates = schema.fields.map(\.name).filter { !keys.contains($0) }
                    .map { "\(SQLiteDatabase.quote($0)) = excluded.\(SQLiteDatabase.quote($0))" }
                apply += " ON CONFLICT (\(primaryKey.map(SQLiteDatabase.quote).joined(separator: ", "))) DO "
                apply += updates.isEmpty ? "NOTHING" : "UPDATE SET " + updates.joined(separator: ", ")
            }
            try database.execute(apply)
            if CommitMarker.isRecorded(context, mode: mode) {
                try recordCommit(in: database, table: table, rows: rows, context: context)
            }
            try context.cancellation.check()
            try database.execute("COMMIT")
        } catch {
            try? database.execute("ROLLBACK")
            if error.message.contains("ON CONFLICT clause does not match") {
                throw StepError(.run, "upsert into '\(table)' needs a primary key or unique index on (\(primaryKey.joined(separator: ", ")))")
            }
            throw error
        }
        try? database.execute("DROP TABLE temp.\(staging)")
        context.progress.wrote(rows: rows, bytes: bytes)
    }

    /// Whether the commit marker of run `context.runID` and this step is in the target's database.
    func hasCommitted(_ context: StepContext) throws(StepError) -> Bool {
        guard let runID = context.runID, CommitMarker.isRecorded(context, mode: try context.requiredString("write_mode")) else { return false }
        let path = try SQLiteExtractor.databasePath(context)
        guard DirectoryWalker.exists(path) else { return false }
        // Not read-only: a killed write may have left a hot journal, which the first read rolls back.
        let database = try SQLiteDatabase(path: path)
        let table = try context.requiredString("table")
        guard try tableExists(database, Self.markerTable(for: table)) else { return false }
        let statement = try database.prepare("SELECT 1 FROM \(Self.quotedMarker(for: table)) WHERE run_id = ?1 AND step_id = ?2")
        sqlite3_bind_text(statement.statement, 1, runID, -1, SQLITE_TRANSIENT_SHIM)
        sqlite3_bind_text(statement.statement, 2, context.step.id, -1, SQLITE_TRANSIENT_SHIM)
        return try statement.step()
    }

    /// The marker table beside `table`: `osiris_commits`, in the same schema when `table` names one.
    static func markerTable(for table: String) -> String {
        let parts = table.split(separator: ".").map(String.init)
        return parts.count > 1 ? parts[0] + "." + CommitMarker.table : CommitMarker.table
    }

    /// The marker table's name, quoted.
    static func quotedMarker(for table: String) -> String {
        markerTable(for: table).split(separator: ".").map { SQLiteDatabase.quote(String($0)) }.joined(separator: ".")
    }

    /// Creates the marker table when missing and inserts the commit marker, inside the write transaction.
    private func recordCommit(in database: SQLiteDatabase, table: String, rows: Int, context: StepContext) throws(StepError) {
        let marker = Self.quotedMarker(for: table)
        try database.execute("CREATE TABLE IF NOT EXISTS \(marker) (\(CommitMarker.sqliteColumns))")
        let insert = try database.prepare(
            "INSERT INTO \(marker) (run_id, step_id, manifest_fp, target_table, rows_written) VALUES (?1, ?2, ?3, ?4, ?5)")
        for (index, text) in [context.runID ?? "", context.step.id, context.manifestFingerprint, table].enumerated() {
            sqlite3_bind_text(insert.statement, Int32(index + 1), text, -1, SQLITE_TRANSIENT_SHIM)
        }
        sqlite3_bind_int64(insert.statement, 5, Int64(rows))
        do throws(StepError) {
            _ = try insert.step()
        } catch where error.message.contains("UNIQUE constraint failed") {
            throw StepError(.run, """
                step '\(context.step.id)' of run \(context.runID ?? "") has already committed its append \
                (its marker is in '\(Self.markerTable(for: table))'); nothing was written again
                """)
        }
    }

    private func tableExists(_ database: SQLiteDatabase, _ table: String) throws(StepError) -> Bool {
        let parts = table.split(separator: ".").map(String.init)
        let schema = parts.count > 1 ? SQLiteDatabase.quote(parts[0]) + "." : ""
        let statement = try database.prepare("SELECT 1 FROM \(schema)sqlite_master WHERE type = 'table' AND name = ?1")
        let name = parts.last ?? table
        sqlite3_bind_text(statement.statement, 1, name, -1, SQLITE_TRANSIENT_SHIM)
        return try statement.step()
    }
}
