import OsirisCore
import OsirisData

/// `mysql.writer`: loads its input into a MariaDB or MySQL table so that a failure, a kill or a
/// server stop leaves the target exactly as it was (DESIGN.md §7.3).
///
/// The rows reach the server through `LOAD DATA LOCAL INFILE` fed by libmariadb's local-infile
/// handler (`MySQLInfileLoader`: streamed batch by batch, no file); a server that refuses local
/// infile gets multi-row `INSERT`s of `batch_size` rows instead. Either way they land in a staging
/// table first:
/// - the target exists and `write_mode` is append, upsert or truncate: a TEMPORARY staging table
///   (private to the session, gone with it, and no implicit commit), then one transaction applies
///   it: `INSERT ... SELECT` (append), `INSERT ... SELECT ... ON DUPLICATE KEY UPDATE` (upsert),
///   `DELETE` then `INSERT ... SELECT` (truncate, or `truncate_before`). The target must be
///   transactional (InnoDB); a rollback undoes everything.
/// - replace, or a target that does not exist yet: a real table `<table>__osiris_stage_<hex>`
///   (created `LIKE` the target, or from the input's schema), loaded, then swapped in with one atomic
///   `RENAME TABLE`, the old table dropped. The run holds the named lock `osiris_stage_<hex>` while
///   it lives; a staging table whose lock is free belongs to a killed run and is dropped by the next
///   run of the same target.
/// An append inside a run inserts its commit marker into `osiris_commits` of the target's database in
/// the same transaction (`CommitMarker`, for `--resume`); that table, and a missing target, are
/// created before the transaction, since DDL commits at once.
/// Input columns map to the target's by name (case-insensitively); one the target lacks is a
/// configuration error. The session runs in UTC with a strict SQL mode, and a warning while
/// loading (LOCAL turns refused values into warnings) fails the step.
struct MySQLWriter: Writer {
    /// Whether the client allows local infile (`MYSQL_OPT_LOCAL_INFILE`); tests turn it off so the
    /// refusal, and the fallback it leads to, can be exercised without changing the server.
    var localInfile = true

    /// The SQL mode of the writer's session: refused values are errors, zero dates are refused, an
    /// explicit 0 in an AUTO_INCREMENT column stays 0.
    static let sqlMode = "STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO"
    /// What staging table names add to the target's name.
    static let stageInfix = "__osiris_stage_"

    /// The resolved options of one write.
    struct Plan {
        var database: String
        var table: String
        var mode: String
        var primaryKey: [String]
        var createTable: Bool
        var truncate: Bool
        var batchSize: Int

        /// The target as `db`.`table`.
        var target: String { MySQLExtractor.quote(database) + "." + MySQLExtractor.quote(table) }
        /// The target for messages.
        var name: String { database + "." + table }
    }

    func write(_ context: StepContext, input: any BatchSource) throws(StepError) {
        guard let resolved = context.connection else {
            throw StepError(.configuration, "step '\(context.step.id)' needs a mysql connection")
        }
        var plan = try Self.plan(context)
        let schema = try input.schema()
        let connection = try MySQLConnection(resolved, masker: context.masker, localInfile: localInfile)
        try connection.execute("SET time_zone = '+00:00'")
        try connection.execute("SET SESSION sql_mode = '\(Self.sqlMode)'")
        try? connection.execute("SET SESSION explicit_defaults_for_timestamp = 1")
        let threadID = connection.threadID
        let masker = context.masker
        let key = context.cancellation.onCancel { MySQLExtractor.kill(threadID, on: resolved, masker: masker) }
        defer { context.cancellation.remove(key) }
        if plan.database.isEmpty {
            guard let current = try connection.rows("SELECT DATABASE()").first?.first ?? nil else {
                throw StepError(.configuration, "step '\(context.step.id)': no database for table '\(plan.table)'; set 'schema' or the connection's database")
            }
            plan.database = current
        }
        try Self.dropLeftovers(of: plan, on: connection)
        var target = try Self.describe(plan, on: connection)
        var columns = schema.names
        if let target {
            columns = try Self.mapColumns(schema.names, to: target.columns, plan: plan)
            if plan.mode == "upsert" { try Self.checkKey(plan, target: target, columns: columns) }
        } else {
            guard plan.createTable else {
                throw StepError(.run, "table '\(plan.name)' does not exist and create_table is false")
            }
            let names = Set(schema.names.map { $0.lowercased() })
            if let missing = plan.primaryKey.first(where: { !names.contains($0.lowercased()) }) {
                throw StepError(.configuration, "primary_key column '\(missing)' is not a column of the input")
            }
        }
        // An append records its commit marker in the transaction of its rows. DDL commits at once in
        // MariaDB and MySQL, so the marker table, and a missing target, are created before it: an
        // append into a new table creates it empty first, then appends like into any table.
        let marked = CommitMarker.isRecorded(context, mode: plan.mode) && !plan.truncate
        if marked {
            try Self.ensureMarker(plan, on: connection)
            if target == nil {
                let (mariaDB, version) = connection.server
                let definition = try MySQLTypes.tableDefinition(schema, primaryKey: plan.primaryKey, hasUUID: mariaDB && version >= 100_700)
                try connection.execute("CREATE TABLE IF NOT EXISTS \(plan.target) (\(definition)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
                target = try Self.describe(plan, on: connection)
                columns = try Self.mapColumns(schema.names, to: target?.columns ?? [], plan: plan)
            }
        }
        let rows: Int
        let bytes: Int
        if target == nil || plan.mode == "replace" {
            (rows, bytes) = try swap(plan, schema: schema, columns: columns, exists: target != nil, input: input, connection: connection, context: context)
        } else {
            (rows, bytes) = try apply(plan, columns: columns, marked: marked, input: input, connection: connection, context: context)
        }
        context.progress.wrote(rows: rows, bytes: bytes)
    }

    /// Replace, or a new target: a real staging table swapped in with one atomic RENAME.
    private func swap(
        _ plan: Plan, schema: Schema, columns: [String], exists: Bool, input: any BatchSource, connection: MySQLConnection,
        context: StepContext
    ) throws(StepError) -> (Int, Int) {
        var hex = ""
        var locked = false
        for _ in 0..<4 where !locked {
            hex = String(UInt32.random(in: 0...UInt32.max), radix: 16)
            hex = String(repeating: "0", count: 8 - hex.count) + hex
            locked = try connection.rows("SELECT GET_LOCK('\(Self.lockName(hex))', 0)").first?.first == "1"
        }
        guard locked else { throw StepError(.temporary, "could not take a staging lock for '\(plan.name)'") }
        defer { try? connection.execute("DO RELEASE_LOCK('\(Self.lockName(hex))')") }
        let stageName = Self.stagePrefix(plan.table) + hex
        let stage = MySQLExtractor.quote(plan.database) + "." + MySQLExtractor.quote(stageName)
        let old = MySQLExtractor.quote(plan.database) + "." + MySQLExtractor.quote(stageName + "_old")
        do throws(StepError) {
            if exists {
                try connection.execute("CREATE TABLE \(stage) LIKE \(plan.target)")
            } else {
                let (mariaDB, version) = connection.server
                let definition = try MySQLTypes.tableDefinition(schema, primaryKey: plan.primaryKey, hasUUID: mariaDB && version >= 100_700)
                try connection.execute("CREATE TABLE \(stage) (\(definition)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
            }
            let result = try load(into: stage, columns: columns, plan: plan, input: input, connection: connection, context: context)
            try context.cancellation.check()
            if exists {
                try connection.execute("RENAME TABLE \(plan.target) TO \(old), \(stage) TO \(plan.target)")
                try? connection.execute("DROP TABLE IF EXISTS \(old)")
            } else {
                try connection.execute("RENAME TABLE \(stage) TO \(plan.target)")
            }
            return result
        } catch {
            try? connection.execute("DROP TABLE IF EXISTS \(stage)")
            throw error
        }
    }

    /// Append, upsert, truncate into an existing table: a TEMPORARY staging table applied in one transaction.
    private func apply(
        _ plan: Plan, columns: [String], marked: Bool, input: any BatchSource, connection: MySQLConnection, context: StepContext
    ) throws(StepError) -> (Int, Int) {
        // Named like the real staging tables, so a server's process list shows which target it is for.
        let stage = MySQLExtractor.quote(plan.database) + "."
            + MySQLExtractor.quote(Self.stagePrefix(plan.table) + String(UInt32.random(in: 0...UInt32.max), radix: 16))
        let list = columns.map(MySQLExtractor.quote).joined(separator: ", ")
        // Column types, NOT NULL included, come from the target; keys and AUTO_INCREMENT do not.
        try connection.execute("CREATE TEMPORARY TABLE \(stage) ENGINE=InnoDB SELECT \(list) FROM \(plan.target) WHERE 1 = 0")
        defer { try? connection.execute("DROP TEMPORARY TABLE IF EXISTS \(stage)") }
        let result = try load(into: stage, columns: columns, plan: plan, input: input, connection: connection, context: context)
        try context.cancellation.check()
        var insert = "INSERT INTO \(plan.target) (\(list)) SELECT \(list) FROM \(stage)"
        if plan.mode == "upsert" {
            let keys = Set(plan.primaryKey.map { $0.lowercased() })
            let updates = columns.filter { !keys.contains($0.lowercased()) }.map { "\(MySQLExtractor.quote($0)) = VALUES(\(MySQLExtractor.quote($0)))" }
            let first = MySQLExtractor.quote(columns[0])
            insert += " ON DUPLICATE KEY UPDATE " + (updates.isEmpty ? "\(first) = \(first)" : updates.joined(separator: ", "))
        }
        do throws(StepError) {
            try connection.execute("START TRANSACTION")
            if plan.truncate { try connection.execute("DELETE FROM \(plan.target)") }
            try connection.update(insert)
            if let warning = try connection.firstWarning() {
                throw StepError(.run, "MariaDB refused a value while writing '\(plan.name)': \(warning)")
            }
            if marked { try Self.recordCommit(plan, rows: result.0, context: context, on: connection) }
            try context.cancellation.check()
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
        return result
    }

    /// Whether the commit marker of run `context.runID` and this step is in the target's database.
    func hasCommitted(_ context: StepContext) throws(StepError) -> Bool {
        guard let resolved = context.connection, let runID = context.runID else { return false }
        var plan = try Self.plan(context)
        guard CommitMarker.isRecorded(context, mode: plan.mode), !plan.truncate else { return false }
        let connection = try MySQLConnection(resolved, masker: context.masker)
        if plan.database.isEmpty {
            guard let current = try connection.rows("SELECT DATABASE()").first?.first ?? nil else { return false }
            plan.database = current
        }
        guard try Self.markerExists(plan, on: connection) else { return false }
        return try !connection.rows("""
            SELECT 1 FROM \(Self.markerName(plan)) WHERE run_id = \(connection.literal(runID)) \
            AND step_id = \(connection.literal(context.step.id))
            """).isEmpty
    }

    /// The marker table of a target: `osiris_commits` in the target's database, quoted.
    static func markerName(_ plan: Plan) -> String {
        MySQLExtractor.quote(plan.database) + "." + MySQLExtractor.quote(CommitMarker.table)
    }

    /// Whether the marker table exists in the target's database.
    static func markerExists(_ plan: Plan, on connection: MySQLConnection) throws(StepError) -> Bool {
        try !connection.rows("""
            SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = \(connection.literal(plan.database)) \
            AND TABLE_NAME = \(connection.literal(CommitMarker.table))
            """).isEmpty
    }

    /// Creates the marker table when it is missing, outside any transaction (CREATE TABLE commits);
    /// a user who may not is told which table to create.
    static func ensureMarker(_ plan: Plan, on connection: MySQLConnection) throws(StepError) {
        guard try !markerExists(plan, on: connection) else { return }
        do throws(StepError) {
            try connection.execute("""
                CREATE TABLE IF NOT EXISTS \(markerName(plan)) (\(CommitMarker.mySQLColumns)) \
                ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin
                """)
        } catch where [1044, 1142].contains(connection.errorNumber) {
            throw CommitMarker.unavailable(
                "\(plan.database).\(CommitMarker.table)", "this user can neither see nor create it: \(error.message)")
        }
    }

    /// Inserts the commit marker inside the append's transaction.
    static func recordCommit(_ plan: Plan, rows: Int, context: StepContext, on connection: MySQLConnection) throws(StepError) {
        let values = [context.runID ?? "", context.step.id, context.manifestFingerprint, plan.name].map(connection.literal)
        do throws(StepError) {
            try connection.update("""
                INSERT INTO \(markerName(plan)) (run_id, step_id, manifest_fp, target_table, rows_written) \
                VALUES (\(values.joined(separator: ", ")), \(rows))
                """)
        } catch where [1044, 1142].contains(connection.errorNumber) {
            throw CommitMarker.unavailable("\(plan.database).\(CommitMarker.table)", "this user may not write it: \(error.message)")
        } catch where connection.errorNumber == 1062 {
            throw StepError(.run, """
                step '\(context.step.id)' of run \(context.runID ?? "") has already committed its append \
                (its marker is in '\(plan.database).\(CommitMarker.table)'); nothing was written again
                """)
        }
    }

    /// Loads the input into `table`: `LOAD DATA LOCAL INFILE`, or multi-row INSERTs when the server
    /// refuses local infile. Returns the rows and bytes read.
    private func load(
        into table: String, columns: [String], plan: Plan, input: any BatchSource, connection: MySQLConnection, context: StepContext
    ) throws(StepError) -> (Int, Int) {
        let list = columns.map(MySQLExtractor.quote).joined(separator: ", ")
        let loader = MySQLInfileLoader(input: input, context: context)
        do {
            try loader.load("""
                LOAD DATA LOCAL INFILE 'osiris-input' INTO TABLE \(table) CHARACTER SET utf8mb4 \
                FIELDS TERMINATED BY '\\t' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' (\(list))
                """, on: connection)
            return (loader.rows, loader.bytes)
        } catch where !loader.started && Self.refusesLocalInfile(connection.errorNumber) {
            // The server (or the client) refused before any data moved: insert instead.
        }
        return try insert(into: table, list: list, plan: plan, input: input, connection: connection, context: context)
    }

    /// Whether an error number says local infile is disabled on the server or the client.
    static func refusesLocalInfile(_ number: UInt32) -> Bool { [1148, 2068, 3948, 4166].contains(number) }

    /// The fallback: `INSERT INTO table (...) VALUES (...), ...` of at most `batch_size` rows (and
    /// about 4 MiB) each.
    private func insert(
        into table: String, list: String, plan: Plan, input: any BatchSource, connection: MySQLConnection, context: StepContext
    ) throws(StepError) -> (Int, Int) {
        let head = "INSERT INTO \(table) (\(list)) VALUES "
        let statement = Buffer<UInt8>(capacity: 1 << 20)
        var pending = 0
        var rows = 0
        var bytes = 0
        func flush() throws(StepError) {
            guard pending > 0 else { return }
            try connection.send(bytes: statement.bytes)
            if let warning = try connection.firstWarning() {
                throw StepError(.run, "MariaDB refused a value while loading: \(warning)")
            }
            statement.count = 0
            pending = 0
        }
        while let batch = try input.next() {
            try context.cancellation.check()
            rows += batch.count
            bytes += batch.dataByteCount
            context.progress.read(rows: batch.count, bytes: batch.dataByteCount)
            for row in 0..<batch.count {
                if pending == 0 {
                    statement.append(head)
                } else {
                    statement.append(UInt8(ascii: ","))
                }
                MySQLLoadEncoding.appendSQLRow(batch, row, to: statement)
                pending += 1
                if pending >= plan.batchSize || statement.count >= 4 << 20 { try flush() }
            }
        }
        try flush()
        return (rows, bytes)
    }

    /// The config of the step, checked.
    static func plan(_ context: StepContext) throws(StepError) -> Plan {
        let table = try context.requiredString("table")
        var mode = context.config("write_mode")?.stringValue ?? "append"
        if let alias = context.step.config["mode"]?.stringValue, context.step.config["write_mode"] == nil || mode == "append" { mode = alias }
        guard ["append", "replace", "upsert", "truncate"].contains(mode) else {
            throw StepError(.configuration, "step '\(context.step.id)': write_mode '\(mode)' is not append, replace, upsert or truncate")
        }
        let keyValue = context.config("primary_key") ?? context.config("upsert_keys")
        let primaryKey = keyValue?.stringValue.map { [$0] } ?? keyValue?.arrayValue?.compactMap(\.stringValue) ?? []
        if mode == "upsert" && primaryKey.isEmpty {
            throw StepError(.configuration, "step '\(context.step.id)': write_mode upsert needs 'primary_key'")
        }
        var database = context.config("schema")?.stringValue ?? context.connection?.fields["schema"]?.stringValue
        var name = table
        let parts = table.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 2 {
            database = parts[0]
            name = parts[1]
        }
        database = database ?? context.connection?.fields["database"]?.stringValue
        let truncate = mode == "truncate" || (mode != "replace" && context.config("truncate_before")?.boolValue == true)
        return Plan(database: database ?? "", table: name, mode: mode, primaryKey: primaryKey,
                    createTable: context.config("create_table")?.boolValue ?? true, truncate: truncate,
                    batchSize: max(1, context.config("batch_size")?.intValue ?? 1000))
    }

    /// What the writer needs to know of an existing target.
    struct Target {
        var columns: [String]
        /// Every unique index (PRIMARY included) as its columns, lowercased.
        var uniqueKeys: [Set<String>]
    }

    /// The target's columns and unique keys, or nil when it does not exist; a view or a
    /// non-transactional table (when the mode needs a transaction) is a configuration error.
    static func describe(_ plan: Plan, on connection: MySQLConnection) throws(StepError) -> Target? {
        let database = connection.literal(plan.database)
        let name = connection.literal(plan.table)
        let where_ = "TABLE_SCHEMA = \(database) AND TABLE_NAME = \(name)"
        let tables = try connection.rows("""
            SELECT t.TABLE_TYPE, t.ENGINE, e.TRANSACTIONS FROM information_schema.TABLES t
            LEFT JOIN information_schema.ENGINES e ON e.ENGINE = t.ENGINE WHERE t.TABLE_SCHEMA = \(database) AND t.TABLE_NAME = \(name)
            """)
        guard let table = tables.first else { return nil }
        guard table[0] == "BASE TABLE" else {
            throw StepError(.configuration, "'\(plan.name)' is a \((table[0] ?? "view").lowercased()), not a table mysql.writer can write")
        }
        if plan.mode != "replace" && table[2] != "YES" {
            throw StepError(.configuration, """
                table '\(plan.name)' uses engine \(table[1] ?? "?"), which has no transactions, so a failed write could not be undone; \
                use an InnoDB table or write_mode replace
                """)
        }
        let columns = try connection.rows("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE \(where_) ORDER BY ORDINAL_POSITION")
            .compactMap { $0.first ?? nil }
        var keys: [String: Set<String>] = [:]
        for row in try connection.rows("SELECT INDEX_NAME, COLUMN_NAME FROM information_schema.STATISTICS WHERE \(where_) AND NON_UNIQUE = 0") {
            guard let index = row[0], let column = row[1] else { continue }
            keys[index, default: []].insert(column.lowercased())
        }
        return Target(columns: columns, uniqueKeys: Array(keys.values))
    }

    /// The target's names of the input's columns; a column the target lacks is a configuration error.
    static func mapColumns(_ names: [String], to columns: [String], plan: Plan) throws(StepError) -> [String] {
        var byName: [String: String] = [:]
        for column in columns { byName[column.lowercased()] = column }
        var mapped: [String] = []
        for name in names {
            guard let column = byName[name.lowercased()] else {
                throw StepError(.configuration, "column '\(name)' of the input is not a column of table '\(plan.name)' (\(columns.joined(separator: ", ")))")
            }
            mapped.append(column)
        }
        return mapped
    }

    /// Upsert needs a PRIMARY or UNIQUE key on exactly the primary_key columns, all of them in the input.
    static func checkKey(_ plan: Plan, target: Target, columns: [String]) throws(StepError) {
        let key = Set(plan.primaryKey.map { $0.lowercased() })
        let input = Set(columns.map { $0.lowercased() })
        if let missing = plan.primaryKey.first(where: { !input.contains($0.lowercased()) }) {
            throw StepError(.configuration, "primary_key column '\(missing)' is not a column of the input")
        }
        guard target.uniqueKeys.contains(key) else {
            throw StepError(.configuration, """
                upsert into '\(plan.name)' needs a PRIMARY KEY or UNIQUE index on exactly (\(plan.primaryKey.joined(separator: ", "))), \
                which the table does not have
                """)
        }
    }

    /// The start of the staging tables' names of `table`, cut so the longest (with `<hex>_old`) fits 64 characters.
    static func stagePrefix(_ table: String) -> String {
        String(table.prefix(64 - stageInfix.count - 12)) + stageInfix
    }

    /// The named lock a run holds while its staging table `<prefix><hex>` lives.
    static func lockName(_ hex: String) -> String { "osiris_stage_" + hex }

    /// Drops the staging tables of `plan`'s target whose run is gone (their lock is free): the
    /// leftovers of a killed run or a stopped server.
    static func dropLeftovers(of plan: Plan, on connection: MySQLConnection) throws(StepError) {
        let prefix = stagePrefix(plan.table)
        let pattern = prefix.replacingAll("\\", with: "\\\\").replacingAll("_", with: "\\_").replacingAll("%", with: "\\%") + "%"
        let names = try connection.rows("""
            SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = \(connection.literal(plan.database)) \
            AND TABLE_NAME LIKE \(connection.literal(pattern))
            """).compactMap { $0.first ?? nil }
        for name in names where name.hasPrefix(prefix) {
            let hex = String(name.dropFirst(prefix.count).prefix(8))
            guard hex.count == 8, hex.allSatisfy(\.isHexDigit) else { continue }
            guard try connection.rows("SELECT IS_FREE_LOCK('\(lockName(hex))')").first?.first == "1" else { continue }
            try connection.execute("DROP TABLE IF EXISTS \(MySQLExtractor.quote(plan.database)).\(MySQLExtractor.quote(name))")
        }
    }
}
