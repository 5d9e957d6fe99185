import OsirisCore
import OsirisData

/// `postgres.writer` and `supabase.writer`: loads the input with `COPY ... FROM STDIN` and applies it
/// in ONE transaction, so a failure, a killed process or a stopped server leaves the target exactly
/// as it was and nothing behind (DESIGN.md §7.3):
///
/// - append, truncate, upsert into an existing table: the rows are copied into a temporary staging
///   table (`ON COMMIT DROP`, created inside the transaction, typed as the target's columns so the
///   server parses each value as its column's type), then `INSERT ... SELECT` into the target
///   (truncate: `TRUNCATE` first; upsert: `ON CONFLICT (primary_key) DO UPDATE`, the last input row
///   of a key winning). The target is locked only while the staged rows are applied.
/// - replace: a new table is created from the input's schema inside the transaction, the rows copied
///   into it, then the old table dropped and the new one renamed into its place. What hung on the old
///   table (grants, indexes, triggers, defaults) is not carried over; a view or foreign key that
///   depends on it makes the replace fail, untouched (truncate keeps the table and what depends on it).
/// - a missing target with `create_table` (supabase.writer: `create_if_missing` or `create_table`):
///   created from the input's schema (`PostgreSQLTypes.columnType`) with `PRIMARY KEY (primary_key)`
///   when given, inside the same transaction, and the rows copied straight into it.
///
/// Identifiers are always quoted; the table lives in config `schema` (default public), unless
/// `table` is written `schema.table`. An append inside a run also inserts its commit marker into
/// `osiris_commits` of the same schema, in the same transaction (`CommitMarker`), for `--resume`.
struct PostgreSQLWriter: Writer {
    /// What the step's config asks for.
    struct Target {
        var schema: String
        var table: String
        var mode: String
        var primaryKey: [String]
        var createTable: Bool
        var createKey: String

        /// The schema-qualified, quoted name.
        var quotedName: String { PostgreSQLConnection.quote(schema) + "." + PostgreSQLConnection.quote(table) }
        /// The name in messages.
        var displayName: String { "\(schema).\(table)" }

        init(_ context: StepContext) throws(StepError) {
            let given = try context.requiredString("table")
            // `schema.table` names its schema, as the extractor reads it.
            if let dot = given.firstIndex(of: "."), dot != given.startIndex, given.index(after: dot) != given.endIndex {
                schema = String(given[..<dot])
                table = String(given[given.index(after: dot)...])
            } else {
                schema = context.config("schema")?.stringValue ?? "public"
                table = given
            }
            mode = context.config("write_mode")?.stringValue ?? "append"
            guard ["append", "replace", "upsert", "truncate"].contains(mode) else {
                throw StepError(.configuration, "step '\(context.step.id)': unknown write_mode '\(mode)'")
            }
            switch context.config("primary_key") {
            case .string(let key)?: primaryKey = [key]
            case .array(let keys)?: primaryKey = keys.compactMap(\.stringValue)
            default: primaryKey = []
            }
            if mode == "upsert" && primaryKey.isEmpty {
                throw StepError(.configuration, "step '\(context.step.id)': write_mode upsert needs 'primary_key'")
            }
            createTable = context.config("create_table")?.boolValue == true || context.config("create_if_missing")?.boolValue == true
            createKey = context.step.component == "supabase.writer" ? "create_if_missing" : "create_table"
        }
    }

    func write(_ context: StepContext, input: any BatchSource) throws(StepError) {
        guard context.connection != nil else {
            throw StepError(.configuration, "step '\(context.step.id)' needs a PostgreSQL connection")
        }
        let target = try Target(context)
        let schema = try input.schema()
        for key in target.primaryKey where !schema.names.contains(key) {
            throw StepError(.configuration, "step '\(context.step.id)': primary_key column '\(key)' is not a column of the input")
        }
        let marked = CommitMarker.isRecorded(context, mode: target.mode)
        try PostgreSQLConnection.inTransaction(context) { connection throws(StepError) in
            // Checked before loading anything, so a user who cannot record the commit learns it at once.
            let markerExists = marked ? try Self.checkMarker(of: target, connection: connection) : true
            let (rows, bytes) = try load(input, schema: schema, into: target, connection: connection, context: context)
            try context.cancellation.check()
            if marked {
                try Self.recordCommit(of: target, rows: rows, exists: markerExists, context: context, connection: connection)
            }
            try connection.execute("COMMIT")
            context.progress.wrote(rows: rows, bytes: bytes)
        }
    }

    /// Whether the commit marker of run `context.runID` and this step is in the target's schema.
    func hasCommitted(_ context: StepContext) throws(StepError) -> Bool {
        let target = try Target(context)
        guard CommitMarker.isRecorded(context, mode: target.mode), let runID = context.runID else { return false }
        return try PostgreSQLConnection.inTransaction(context, begin: "BEGIN READ ONLY") { connection throws(StepError) in
            let marker = Self.markerName(target)
            var found = false
            if try connection.rows("SELECT to_regclass($1::text) IS NOT NULL", parameters: [marker]) == [["t"]] {
                found = try !connection.rows(
                    "SELECT 1 FROM \(marker) WHERE run_id = $1 AND step_id = $2", parameters: [runID, context.step.id]).isEmpty
            }
            try connection.execute("ROLLBACK")
            return found
        }
    }

    /// The marker table of a target: `osiris_commits` in the target's schema, quoted.
    static func markerName(_ target: Target) -> String {
        PostgreSQLConnection.quote(target.schema) + "." + PostgreSQLConnection.quote(CommitMarker.table)
    }

    /// Whether the marker table exists; throws, naming it, when this user could not create it (it is
    /// missing and the schema refuses CREATE) or not write it (no SELECT and INSERT on it).
    static func checkMarker(of target: Target, connection: PostgreSQLConnection) throws(StepError) -> Bool {
        let marker = markerName(target)
        let answer = try connection.rows("""
            SELECT to_regclass($1::text) IS NOT NULL, CASE WHEN to_regclass($1::text) IS NULL \
            THEN has_schema_privilege($2::text, 'CREATE') ELSE has_table_privilege($1::text, 'SELECT, INSERT') END
            """, parameters: [marker, target.schema]).first ?? []
        let exists = answer.first == "t"
        guard answer.count == 2, answer[1] == "t" else {
            throw CommitMarker.unavailable(
                "\(target.schema).\(CommitMarker.table)",
                exists ? "this user may not insert into it" : "it does not exist and this user may not create it in schema '\(target.schema)'")
        }
        return exists
    }

    /// Inserts the commit marker inside the write's transaction, creating the table first when it was
    /// missing (under a transaction-scoped advisory lock, so concurrent first appends do not collide).
    static func recordCommit(
        of target: Target, rows: Int, exists: Bool, context: StepContext, connection: PostgreSQLConnection
    ) throws(StepError) {
        let marker = markerName(target)
        let display = "\(target.schema).\(CommitMarker.table)"
        do throws(StepError) {
            if !exists {
                _ = try connection.rows("SELECT pg_advisory_xact_lock(hashtext($1::text))", parameters: ["osiris_commits " + marker])
                if try connection.rows("SELECT to_regclass($1::text) IS NULL", parameters: [marker]) == [["t"]] {
                    try connection.execute("CREATE TABLE \(marker) (\(CommitMarker.postgreSQLColumns))")
                }
            }
            _ = try connection.rows("""
                INSERT INTO \(marker) (run_id, step_id, manifest_fp, target_table, rows_written) \
                VALUES ($1, $2, $3, $4, $5::bigint) RETURNING 1
                """, parameters: [context.runID ?? "", context.step.id, context.manifestFingerprint, target.displayName, String(rows)])
        } catch where error.message.hasPrefix("PostgreSQL error 42501") {
            throw CommitMarker.unavailable(display, "this user may not write it: \(error.message)")
        } catch where error.message.hasPrefix("PostgreSQL error 23505") {
            throw StepError(.run, """
                step '\(context.step.id)' of run \(context.runID ?? "") has already committed its append \
                (its marker is in '\(display)'); nothing was written again
                """)
        }
    }

    /// Runs the load inside the open transaction; returns the rows and bytes written.
    private func load(
        _ input: any BatchSource, schema: Schema, into target: Target, connection: PostgreSQLConnection, context: StepContext
    ) throws(StepError) -> (Int, Int) {
        let quote = PostgreSQLConnection.quote
        let columns = schema.names.map(quote).joined(separator: ", ")
        let existing = try Self.columns(of: target, connection: connection)
        if existing == nil && !target.createTable {
            throw StepError(.configuration, "table '\(target.displayName)' does not exist and \(target.createKey) is false")
        }
        var definitions = PostgreSQLTypes.columnDefinitions(schema)
        if !target.primaryKey.isEmpty { definitions += ", PRIMARY KEY (" + target.primaryKey.map(quote).joined(separator: ", ") + ")" }

        if target.mode == "replace" {
            let fresh = "osiris_replace_" + (try connection.rows("SELECT pg_backend_pid()").first?.first.flatMap { $0 } ?? "0")
            let freshName = quote(target.schema) + "." + quote(fresh)
            try connection.execute("CREATE TABLE \(freshName) (\(definitions))")
            let moved = try connection.copyIn(input, into: "\(freshName) (\(columns))", ordinal: false, context: context)
            if existing != nil {
                do throws(StepError) {
                    try connection.execute("DROP TABLE \(target.quotedName)")
                } catch where error.message.hasPrefix("PostgreSQL error 2BP01") {
                    throw StepError(.run, """
                        write_mode replace cannot drop table '\(target.displayName)': \(error.message.dropFirst("PostgreSQL error 2BP01: ".count)); \
                        the table is unchanged (write_mode truncate keeps the table and what depends on it)
                        """)
                }
            }
            try connection.execute("ALTER TABLE \(freshName) RENAME TO \(quote(target.table))")
            // The key's index keeps the temporary name unless it is given the usual one.
            let keyName = target.table + "_pkey"
            if !target.primaryKey.isEmpty, keyName.utf8.count <= 63,
               try connection.rows("SELECT to_regclass($1)", parameters: [quote(target.schema) + "." + quote(keyName)]) == [[nil]] {
                try connection.execute("ALTER TABLE \(target.quotedName) RENAME CONSTRAINT \(quote(fresh + "_pkey")) TO \(quote(keyName))")
            }
            return moved
        }

        guard let existing else {
            try connection.execute("CREATE TABLE \(target.quotedName) (\(definitions))")
            if target.mode != "upsert" {
                // A table made in this transaction is invisible to everyone else: no staging needed.
                return try connection.copyIn(input, into: "\(target.quotedName) (\(columns))", ordinal: false, context: context)
            }
            return try stageAndApply(input, schema: schema, types: schema.fields.map(PostgreSQLTypes.columnType),
                                     target: target, connection: connection, context: context)
        }
        var types: [String] = []
        for name in schema.names {
            guard let column = existing.first(where: { $0.name == name }) else {
                throw StepError(.configuration, """
                    input column '\(name)' is not a column of table '\(target.displayName)' \
                    (its columns: \(existing.map(\.name).joined(separator: ", ")))
                    """)
            }
            types.append(column.type)
        }
        return try stageAndApply(input, schema: schema, types: types, target: target, connection: connection, context: context)
    }

    /// Copies the input into a temporary staging table whose columns have `types`, then applies it
    /// to the existing target as the mode says.
    private func stageAndApply(
        _ input: any BatchSource, schema: Schema, types: [String], target: Target, connection: PostgreSQLConnection,
        context: StepContext
    ) throws(StepError) -> (Int, Int) {
        let quote = PostgreSQLConnection.quote
        let names = schema.names.map(quote)
        let columns = names.joined(separator: ", ")
        let upsert = target.mode == "upsert"
        var definitions = zip(names, types).map { "\($0) \($1)" }
        if upsert { definitions.append("\"osiris_ordinal\" bigint") }
        try connection.execute("CREATE TEMP TABLE \"osiris_staging\" (\(definitions.joined(separator: ", "))) ON COMMIT DROP")
        var apply = "INSERT INTO \(target.quotedName) (\(columns)) "
        if upsert {
            let keys = target.primaryKey.map(quote).joined(separator: ", ")
            let updates = names.filter { !target.primaryKey.map(quote).contains($0) }.map { "\($0) = EXCLUDED.\($0)" }
            apply += "SELECT DISTINCT ON (\(keys)) \(columns) FROM pg_temp.\"osiris_staging\" ORDER BY \(keys), \"osiris_ordinal\" DESC "
            apply += "ON CONFLICT (\(keys)) DO " + (updates.isEmpty ? "NOTHING" : "UPDATE SET " + updates.joined(separator: ", "))
            // Planning the statement before loading anything checks the key has a unique constraint.
            do throws(StepError) {
                try connection.execute("EXPLAIN " + apply)
            } catch where error.message.hasPrefix("PostgreSQL error 42P10") {
                throw StepError(.configuration, """
                    write_mode upsert needs a primary key or unique constraint on (\(target.primaryKey.joined(separator: ", "))) \
                    of table '\(target.displayName)', and it has none
                    """)
            }
        } else {
            apply += "SELECT \(columns) FROM pg_temp.\"osiris_staging\""
        }
        let staged = "pg_temp.\"osiris_staging\" (\(columns)\(upsert ? ", \"osiris_ordinal\"" : ""))"
        let moved = try connection.copyIn(input, into: staged, ordinal: upsert, context: context)
        try context.cancellation.check()
        if target.mode == "truncate" { try connection.execute("TRUNCATE \(target.quotedName)") }
        try connection.execute(apply)
        return moved
    }

    /// A column of an existing table: its name and its type as `format_type` prints it.
    struct TableColumn: Equatable {
        var name: String
        var type: String
    }

    /// The columns of the target, in order, or nil when no table of that name exists; a relation of
    /// that name that is not a table (a view, a sequence) is a configuration error.
    static func columns(of target: Target, connection: PostgreSQLConnection) throws(StepError) -> [TableColumn]? {
        let relations = try connection.rows("""
            SELECT c.oid::text, c.relkind::text FROM pg_catalog.pg_class c \
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2
            """, parameters: [target.schema, target.table])
        guard let relation = relations.first, let oid = relation[0] else { return nil }
        guard relation[1] == "r" || relation[1] == "p" else {
            throw StepError(.configuration, "'\(target.displayName)' is not a table, so a writer cannot load it")
        }
        return try connection.rows("""
            SELECT attname, pg_catalog.format_type(atttypid, atttypmod) FROM pg_catalog.pg_attribute \
            WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum
            """, parameters: [oid]).map { TableColumn(name: $0[0] ?? "", type: $0[1] ?? "text") }
    }
}
